# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_infinit_global_optspecs
    string join \n a/as= s/script home= hub= h/help V/version
end

function __fish_infinit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_infinit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_infinit_using_subcommand
    set -l cmd (__fish_infinit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c infinit -n "__fish_infinit_needs_command" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_needs_command" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_needs_command" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_needs_command" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_needs_command" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "user" -d 'Users: identities made of a signing key and an encryption key'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "silo" -d 'Silos: where a node keeps its blocks (a folder, RAM, an S3 or GCS bucket)'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "storage" -d 'Silos: where a node keeps its blocks (a folder, RAM, an S3 or GCS bucket)'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "credentials" -d 'Credentials for cloud silos (AWS/S3-compatible, Google Cloud Storage)'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "network" -d 'Networks: groups of nodes that store each other\'s blocks'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "passport" -d 'Passports: signed memberships of a network'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "volume" -d 'Volumes: file systems living on a network'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "cluster" -d 'Whole deployments: `cluster init` makes and mounts a one-node volume in one command'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "journal" -d 'The write-back journal of asynchronous volumes: what is still waiting to be stored'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "device" -d 'Devices: move a user\'s identity to another device through the hub'
complete -c infinit -n "__fish_infinit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "create" -d 'Create a user: a new Ed25519 signing key and X25519 encryption key'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "export" -d 'Export a user (public part unless --full) to stdout or a file'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "import" -d 'Import a user exported by someone (or by yourself with --full)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "list" -d 'List local users'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "delete" -d 'Delete a local user (asks for confirmation if its private key is here)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "hash" -d 'Print the short hash of a user\'s key, e.g. #3fa9c1'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "signup" -d 'Create a user and publish it on the hub (with --full, to log in from other devices)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "login" -d 'Get your user from the hub on this device, with its hub password (after signup --full)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "fetch" -d 'Get someone\'s public user from the hub, by name or by key hash (#3fa9c1)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "push" -d 'Publish a local user on the hub (with --full, its key protected by a hub password)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "pull" -d 'Remove a user from the hub (the local user stays)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and not __fish_seen_subcommand_from create export import list delete hash signup login fetch push pull help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -l description -d 'Free text describing the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -l passphrase -d 'Protect the private key with a passphrase typed at a prompt (or taken from INFINIT_PASSPHRASE)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -l passphrase-stdin -d 'Protect the private key with a passphrase read from the first line of standard input'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -l full -d 'Include the private key (keep the result secret)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -s i -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Do not ask for confirmation (required with --script when the private key is here)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -l purge -d 'Also delete the networks, volumes and passports this user owns'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from hash" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -l description -d 'Free text describing the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -l full -d 'Also keep the private key on the hub, protected by a hub password, so that `user login` works on other devices'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -l password -d 'Ask for the hub password (INFINIT_PASSWORD, else a line of standard input, else a prompt); implied by --full'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from signup" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from login" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from fetch" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -l full -d 'Also keep the private key on the hub, protected by a hub password'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -l password -d 'Ask for the hub password (INFINIT_PASSWORD, else a line of standard input, else a prompt); implied by --full'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -s n -l name -d 'Name of the user' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -l purge -d 'Also remove the networks, volumes and passports the user has on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from pull" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a user: a new Ed25519 signing key and X25519 encryption key'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a user (public part unless --full) to stdout or a file'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import a user exported by someone (or by yourself with --full)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "list" -d 'List local users'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a local user (asks for confirmation if its private key is here)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "hash" -d 'Print the short hash of a user\'s key, e.g. #3fa9c1'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "signup" -d 'Create a user and publish it on the hub (with --full, to log in from other devices)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "login" -d 'Get your user from the hub on this device, with its hub password (after signup --full)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Get someone\'s public user from the hub, by name or by key hash (#3fa9c1)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "push" -d 'Publish a local user on the hub (with --full, its key protected by a hub password)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Remove a user from the hub (the local user stays)'
complete -c infinit -n "__fish_infinit_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -f -a "create" -d 'Create a silo'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -f -a "list" -d 'List local silos'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -f -a "export" -d 'Export a silo descriptor (credentials are referenced by name, never included)'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -f -a "import" -d 'Import a silo descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -f -a "delete" -d 'Delete a silo'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and not __fish_seen_subcommand_from create list export import delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -f -a "filesystem" -d 'A local folder: one file per block in sharded subfolders'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -f -a "memory" -d 'RAM only: everything is lost when the node stops (tests, throwaway networks)'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -f -a "s3" -d 'An S3-compatible bucket'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -f -a "gcs" -d 'A Google Cloud Storage bucket'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from create" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -s n -l name -d 'Name of the silo' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -s i -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -s n -l name -d 'Name of the silo' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -l clear-content -d 'Also erase the blocks stored in a filesystem silo\'s folder'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a silo'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from help" -f -a "list" -d 'List local silos'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a silo descriptor (credentials are referenced by name, never included)'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import a silo descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a silo'
complete -c infinit -n "__fish_infinit_using_subcommand silo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -f -a "create" -d 'Create a silo'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -f -a "list" -d 'List local silos'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -f -a "export" -d 'Export a silo descriptor (credentials are referenced by name, never included)'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -f -a "import" -d 'Import a silo descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -f -a "delete" -d 'Delete a silo'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and not __fish_seen_subcommand_from create list export import delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -f -a "filesystem" -d 'A local folder: one file per block in sharded subfolders'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -f -a "memory" -d 'RAM only: everything is lost when the node stops (tests, throwaway networks)'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -f -a "s3" -d 'An S3-compatible bucket'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -f -a "gcs" -d 'A Google Cloud Storage bucket'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from create" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -s n -l name -d 'Name of the silo' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -s i -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -s n -l name -d 'Name of the silo' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -l clear-content -d 'Also erase the blocks stored in a filesystem silo\'s folder'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a silo'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "list" -d 'List local silos'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a silo descriptor (credentials are referenced by name, never included)'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import a silo descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a silo'
complete -c infinit -n "__fish_infinit_using_subcommand storage; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -f -a "add" -d 'Add credentials (the secret comes from the environment, standard input or a prompt)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -f -a "list" -d 'List credentials (secrets are never shown)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -f -a "delete" -d 'Delete credentials'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and not __fish_seen_subcommand_from add list delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -s n -l name -d 'Local name of these credentials' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -l access-key-id -d 'AWS access key id' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -l key-file -d 'GCS service account key file (JSON)' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -l aws -d 'Amazon Web Services or any S3-compatible service (secret key from $AWS_SECRET_ACCESS_KEY, stdin or a prompt)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -l gcs -d 'Google Cloud Storage (service account key JSON from --key-file or stdin)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -l aws -d 'Amazon Web Services or any S3-compatible service'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -l gcs -d 'Google Cloud Storage'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -s n -l name -d 'Name of the credentials' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -l aws -d 'Amazon Web Services credentials'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -l gcs -d 'Google Cloud Storage credentials'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add credentials (the secret comes from the environment, standard input or a prompt)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "list" -d 'List credentials (secrets are never shown)'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete credentials'
complete -c infinit -n "__fish_infinit_using_subcommand credentials; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "create" -d 'Create a network owned by you, and link it to this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "link" -d 'Link a network to this device (needs a passport unless you own it)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "unlink" -d 'Unlink a network from this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "list" -d 'List networks known on this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "export" -d 'Export a network descriptor (to share it with members)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "import" -d 'Import a network descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "update" -d 'Change a network you own (description, replication, eviction delay, peers)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "delete" -d 'Delete a network descriptor from this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "run" -d 'Run this device\'s node of the network until Ctrl-C; with --listen, --port or --peer it joins the other nodes of the network'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "inspect" -d 'Show what this device\'s running node sees: its peers (endpoints, alive, suspect or down, space), the blocks it stores and how many have fewer live replicas than the replication factor'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "push" -d 'Publish a network you own on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "fetch" -d 'Get a network from the hub (without a name: every network you own or hold a passport for)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "pull" -d 'Remove a network you own from the hub, with its passports and endpoints there'
complete -c infinit -n "__fish_infinit_using_subcommand network; and not __fish_seen_subcommand_from create link unlink list export import update delete run inspect push fetch pull help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s S -l silo -d 'Silo this device contributes (repeat for several); none makes a pure client' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s r -l replication-factor -d 'Number of nodes that keep each block' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -l overlay -d 'How nodes find each other and place blocks' -r -f -a "gossip\t'Gossip membership with failure detection (default)'
static\t'A fixed list of peers'
single\t'One node holds everything'"
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s e -l eviction-delay -d 'How long a node may be silent before its blocks are re-replicated elsewhere' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -l peer -d 'Bootstrap peer host:port (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -l description -d 'Free text describing the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -l push -d 'Also publish it on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -s S -l silo -d 'Silo this device contributes (repeat for several); needs a passport that allows storage' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from link" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from unlink" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -s i -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -l description -d 'New description' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s r -l replication-factor -d 'New number of nodes that keep each block' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s e -l eviction-delay -d 'New eviction delay' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -l peer -d 'Replace the bootstrap peers (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -l push -d 'Also publish the updated network on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -l unlink -d 'Also unlink it for every local user who linked it'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -l purge -d 'Also delete the passports and volumes of this network'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l listen -d 'Address to listen on for other nodes, e.g. 0.0.0.0 or 127.0.0.2:4000 [default: 0.0.0.0]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l port -d 'Port to listen on [default: any free port]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l port-file -d 'Write the port listened on to this file once bound' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l advertise-host -d 'Host name or address other nodes reach this one at (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l peer -d 'A node to join through, HOST:PORT (repeat for several; a name is tried at each address it resolves to); a file of such lines also works' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l peers-file -d 'File of known peers, read at start and kept up to date while running' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l publish -l push-endpoints -d 'Publish where this node is reached on the hub (--hub or INFINIT_HUB), and keep it published while the node runs, so that other nodes find it without --peer'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l fetch-endpoints -d 'Find peers through the endpoints published on the hub [default: on when a hub is configured and the node joins a network of several nodes]'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -l no-fetch-endpoints -d 'Do not look for peers on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from fetch" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -s n -l name -d 'Name of the network' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -l purge -d 'Also remove your volumes on it from the hub'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from pull" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a network owned by you, and link it to this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "link" -d 'Link a network to this device (needs a passport unless you own it)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "unlink" -d 'Unlink a network from this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "list" -d 'List networks known on this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a network descriptor (to share it with members)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import a network descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a network you own (description, replication, eviction delay, peers)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a network descriptor from this device'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run this device\'s node of the network until Ctrl-C; with --listen, --port or --peer it joins the other nodes of the network'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Show what this device\'s running node sees: its peers (endpoints, alive, suspect or down, space), the blocks it stores and how many have fewer live replicas than the replication factor'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "push" -d 'Publish a network you own on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Get a network from the hub (without a name: every network you own or hold a passport for)'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Remove a network you own from the hub, with its passports and endpoints there'
complete -c infinit -n "__fish_infinit_using_subcommand network; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "create" -d 'Sign a passport letting a user join a network (as its owner or a delegate)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "list" -d 'List local passports'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "export" -d 'Export a passport to give it to its holder'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "import" -d 'Import a passport (the network must be imported first)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "delete" -d 'Delete a local passport'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "push" -d 'Publish a passport on the hub (as the network\'s owner or the delegate who signed it)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "fetch" -d 'Get passports from the hub: yours on a network, all of a network you own, or all you hold'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "pull" -d 'Remove a passport from the hub (its network\'s owner, its holder or its signer)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and not __fish_seen_subcommand_from create list export import delete push fetch pull help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -s N -l network -d 'Network the passport is for' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -s u -l user -d 'User who holds the passport' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -l deny-write -d 'The holder may only read'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -l deny-storage -d 'The holder may not contribute storage'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -l allow-create-passport -d 'The holder may sign passports for others'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -l push -d 'Also publish it on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -s N -l network -d 'Only the passports of this network' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s N -l network -d 'Network the passport is for' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s u -l user -d 'User who holds the passport' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -s i -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -s N -l network -d 'Network the passport is for' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -s u -l user -d 'User who holds the passport' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -s N -l network -d 'Network the passport is for' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -s u -l user -d 'User who holds the passport' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -s N -l network -d 'Network of the passports [default: every network you hold a passport for]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -s u -l user -d 'Holder of the passport [default: you; the owner of the network gets them all]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from fetch" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -s N -l network -d 'Network the passport is for' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -s u -l user -d 'User who holds the passport' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from pull" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "create" -d 'Sign a passport letting a user join a network (as its owner or a delegate)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "list" -d 'List local passports'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a passport to give it to its holder'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import a passport (the network must be imported first)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a local passport'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "push" -d 'Publish a passport on the hub (as the network\'s owner or the delegate who signed it)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Get passports from the hub: yours on a network, all of a network you own, or all you hold'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Remove a passport from the hub (its network\'s owner, its holder or its signer)'
complete -c infinit -n "__fish_infinit_using_subcommand passport; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "create" -d 'Create a volume on a network linked to this device'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "list" -d 'List local volumes'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "export" -d 'Export a volume descriptor (without its local mountpoint)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "import" -d 'Import a volume descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "update" -d 'Change a volume\'s default mount options (and, for its creator, its description)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "delete" -d 'Delete a local volume descriptor (the data on the network is not touched)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "run" -d 'Run this device\'s node and serve the volume through FUSE until Ctrl-C'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "mount" -d 'Mount the volume: the same as run, on --mountpoint or else the volume\'s stored mountpoint'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "check" -d 'Check the volume as stored in this device\'s silo, with its node stopped; exit 1 if problems remain'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "push" -d 'Publish a volume you created on the hub (without its local mount options)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "fetch" -d 'Get volumes from the hub: one by name, those of a network, or (neither) all you can reach'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "pull" -d 'Remove a volume you created from the hub'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and not __fish_seen_subcommand_from create list export import update delete run mount check push fetch pull help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s N -l network -d 'Network the volume lives on' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l description -d 'Free text describing the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l block-size -d 'Size of file content blocks, e.g. 1MiB (4KiB to 64MiB)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s m -l mountpoint -d 'Default mountpoint' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l readonly -d 'Mount read-only by default' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l cache -d 'Keep a RAM block cache by default' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l async -d 'Write back through the on-disk journal by default' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -l push -d 'Also publish it on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from list" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from list" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from list" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from list" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -s i -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -s m -l mountpoint -d 'Default mountpoint on this device' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -l description -d 'New description (creator only)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -s m -l mountpoint -d 'Default mountpoint' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -l readonly -d 'Mount read-only by default' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -l cache -d 'Keep a RAM block cache by default' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -l async -d 'Write back through the on-disk journal by default' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -s m -l mountpoint -d 'Where to mount [default: the volume\'s stored mountpoint]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l readonly -d 'Mount read-only' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l fuse-option -d 'Extra FUSE mount option, e.g. allow_other (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l cache -d 'Keep a RAM cache of blocks [default: the volume\'s stored setting, else off]' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l cache-ram-size -d 'Size of the RAM cache, e.g. 256MiB (implies --cache)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l async -d 'Acknowledge writes once they are in the on-disk journal, and store them in the background; the journal survives crashes and is replayed at the next start' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l revalidate -d 'How long a cached file or directory is trusted before it is read again, so that changes by another writer of the same blocks show within about this delay (e.g. 500ms, 5s; 0s reads every time)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l listen -d 'Address to listen on for other nodes, e.g. 0.0.0.0 or 127.0.0.2:4000 [default: 0.0.0.0]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l port -d 'Port to listen on [default: any free port]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l port-file -d 'Write the port listened on to this file once bound' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l advertise-host -d 'Host name or address other nodes reach this one at (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l peer -d 'A node to join through, HOST:PORT (repeat for several; a name is tried at each address it resolves to); a file of such lines also works' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l peers-file -d 'File of known peers, read at start and kept up to date while running' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l publish -l push-endpoints -d 'Publish where this node is reached on the hub (--hub or INFINIT_HUB), and keep it published while the node runs, so that other nodes find it without --peer'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l fetch-endpoints -d 'Find peers through the endpoints published on the hub [default: on when a hub is configured and the node joins a network of several nodes]'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -l no-fetch-endpoints -d 'Do not look for peers on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -s m -l mountpoint -d 'Where to mount [default: the volume\'s stored mountpoint]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l readonly -d 'Mount read-only' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l fuse-option -d 'Extra FUSE mount option, e.g. allow_other (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l cache -d 'Keep a RAM cache of blocks [default: the volume\'s stored setting, else off]' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l cache-ram-size -d 'Size of the RAM cache, e.g. 256MiB (implies --cache)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l async -d 'Acknowledge writes once they are in the on-disk journal, and store them in the background; the journal survives crashes and is replayed at the next start' -r -f -a "true\t''
false\t''"
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l revalidate -d 'How long a cached file or directory is trusted before it is read again, so that changes by another writer of the same blocks show within about this delay (e.g. 500ms, 5s; 0s reads every time)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l listen -d 'Address to listen on for other nodes, e.g. 0.0.0.0 or 127.0.0.2:4000 [default: 0.0.0.0]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l port -d 'Port to listen on [default: any free port]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l port-file -d 'Write the port listened on to this file once bound' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l advertise-host -d 'Host name or address other nodes reach this one at (repeat for several)' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l peer -d 'A node to join through, HOST:PORT (repeat for several; a name is tried at each address it resolves to); a file of such lines also works' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l peers-file -d 'File of known peers, read at start and kept up to date while running' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l publish -l push-endpoints -d 'Publish where this node is reached on the hub (--hub or INFINIT_HUB), and keep it published while the node runs, so that other nodes find it without --peer'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l fetch-endpoints -d 'Find peers through the endpoints published on the hub [default: on when a hub is configured and the node joins a network of several nodes]'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -l no-fetch-endpoints -d 'Do not look for peers on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from mount" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -l repair -d 'Fix what can be fixed: unlink dangling and stale entries, make lost chunks holes, set link counts, link orphans into /lost+found, remove leaked blocks; then check again'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -s N -l network -d 'Every volume of this network' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from fetch" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -s n -l name -d 'Name of the volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from pull" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a volume on a network linked to this device'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "list" -d 'List local volumes'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a volume descriptor (without its local mountpoint)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import a volume descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a volume\'s default mount options (and, for its creator, its description)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a local volume descriptor (the data on the network is not touched)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run this device\'s node and serve the volume through FUSE until Ctrl-C'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "mount" -d 'Mount the volume: the same as run, on --mountpoint or else the volume\'s stored mountpoint'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the volume as stored in this device\'s silo, with its node stopped; exit 1 if problems remain'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "push" -d 'Publish a volume you created on the hub (without its local mount options)'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Get volumes from the hub: one by name, those of a network, or (neither) all you can reach'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Remove a volume you created from the hub'
complete -c infinit -n "__fish_infinit_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -f -a "init" -d 'Create (if missing) a user, a silo, a one-node network and a volume, then mount it'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and not __fish_seen_subcommand_from init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s m -l mountpoint -d 'Where to mount the volume' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s n -l name -d 'Name of the silo, network and volume' -r
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s c -l capacity -d 'Space the silo offers, e.g. 10GB' -r
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -l no-mount -d 'Set everything up but do not mount'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create (if missing) a user, a silo, a one-node network and a volume, then mount it'
complete -c infinit -n "__fish_infinit_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -f -a "stat" -d 'Count the operations waiting in the journal of each linked network (or one)'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -f -a "describe" -d 'List the operations waiting in a network\'s journal, and those the network refused'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and not __fish_seen_subcommand_from stat describe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -s N -l network -d 'The network [default: every network linked for the acting user]' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from stat" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -s N -l network -d 'The network [default: every network linked for the acting user]' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "stat" -d 'Count the operations waiting in the journal of each linked network (or one)'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "describe" -d 'List the operations waiting in a network\'s journal, and those the network refused'
complete -c infinit -n "__fish_infinit_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -f -a "transmit" -d 'Leave your user\'s identity on the hub, under a passphrase, for another device to receive'
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -f -a "receive" -d 'Receive a user\'s identity transmitted from another device'
complete -c infinit -n "__fish_infinit_using_subcommand device; and not __fish_seen_subcommand_from transmit receive help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -l expires-in -d 'How long the hub keeps it for the other device (at most 30min)' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -s u -l user -d 'Transmit the acting user (its private key, protected by a passphrase read from INFINIT_PAIRING_PASSPHRASE, a line of standard input or a prompt)'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from transmit" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -s n -l name -d 'The user to receive [default: the acting user]' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -s a -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -s u -l user -d 'Receive a user (with the passphrase it was transmitted under)'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -s s -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -s h -l help -d 'Print help'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from receive" -s V -l version -d 'Print version'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "transmit" -d 'Leave your user\'s identity on the hub, under a passphrase, for another device to receive'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "receive" -d 'Receive a user\'s identity transmitted from another device'
complete -c infinit -n "__fish_infinit_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "user" -d 'Users: identities made of a signing key and an encryption key'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "silo" -d 'Silos: where a node keeps its blocks (a folder, RAM, an S3 or GCS bucket)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "credentials" -d 'Credentials for cloud silos (AWS/S3-compatible, Google Cloud Storage)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "network" -d 'Networks: groups of nodes that store each other\'s blocks'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "passport" -d 'Passports: signed memberships of a network'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "volume" -d 'Volumes: file systems living on a network'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "cluster" -d 'Whole deployments: `cluster init` makes and mounts a one-node volume in one command'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "journal" -d 'The write-back journal of asynchronous volumes: what is still waiting to be stored'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "device" -d 'Devices: move a user\'s identity to another device through the hub'
complete -c infinit -n "__fish_infinit_using_subcommand help; and not __fish_seen_subcommand_from user silo credentials network passport volume cluster journal device help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "create" -d 'Create a user: a new Ed25519 signing key and X25519 encryption key'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "export" -d 'Export a user (public part unless --full) to stdout or a file'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "import" -d 'Import a user exported by someone (or by yourself with --full)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "list" -d 'List local users'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "delete" -d 'Delete a local user (asks for confirmation if its private key is here)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "hash" -d 'Print the short hash of a user\'s key, e.g. #3fa9c1'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "signup" -d 'Create a user and publish it on the hub (with --full, to log in from other devices)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "login" -d 'Get your user from the hub on this device, with its hub password (after signup --full)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "fetch" -d 'Get someone\'s public user from the hub, by name or by key hash (#3fa9c1)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "push" -d 'Publish a local user on the hub (with --full, its key protected by a hub password)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "pull" -d 'Remove a user from the hub (the local user stays)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from silo" -f -a "create" -d 'Create a silo'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from silo" -f -a "list" -d 'List local silos'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from silo" -f -a "export" -d 'Export a silo descriptor (credentials are referenced by name, never included)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from silo" -f -a "import" -d 'Import a silo descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from silo" -f -a "delete" -d 'Delete a silo'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from credentials" -f -a "add" -d 'Add credentials (the secret comes from the environment, standard input or a prompt)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from credentials" -f -a "list" -d 'List credentials (secrets are never shown)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from credentials" -f -a "delete" -d 'Delete credentials'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "create" -d 'Create a network owned by you, and link it to this device'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "link" -d 'Link a network to this device (needs a passport unless you own it)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "unlink" -d 'Unlink a network from this device'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "list" -d 'List networks known on this device'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "export" -d 'Export a network descriptor (to share it with members)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "import" -d 'Import a network descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "update" -d 'Change a network you own (description, replication, eviction delay, peers)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "delete" -d 'Delete a network descriptor from this device'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "run" -d 'Run this device\'s node of the network until Ctrl-C; with --listen, --port or --peer it joins the other nodes of the network'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "inspect" -d 'Show what this device\'s running node sees: its peers (endpoints, alive, suspect or down, space), the blocks it stores and how many have fewer live replicas than the replication factor'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "push" -d 'Publish a network you own on the hub'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "fetch" -d 'Get a network from the hub (without a name: every network you own or hold a passport for)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from network" -f -a "pull" -d 'Remove a network you own from the hub, with its passports and endpoints there'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "create" -d 'Sign a passport letting a user join a network (as its owner or a delegate)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "list" -d 'List local passports'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "export" -d 'Export a passport to give it to its holder'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "import" -d 'Import a passport (the network must be imported first)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "delete" -d 'Delete a local passport'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "push" -d 'Publish a passport on the hub (as the network\'s owner or the delegate who signed it)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "fetch" -d 'Get passports from the hub: yours on a network, all of a network you own, or all you hold'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from passport" -f -a "pull" -d 'Remove a passport from the hub (its network\'s owner, its holder or its signer)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "create" -d 'Create a volume on a network linked to this device'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "list" -d 'List local volumes'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "export" -d 'Export a volume descriptor (without its local mountpoint)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "import" -d 'Import a volume descriptor'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "update" -d 'Change a volume\'s default mount options (and, for its creator, its description)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "delete" -d 'Delete a local volume descriptor (the data on the network is not touched)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "run" -d 'Run this device\'s node and serve the volume through FUSE until Ctrl-C'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "mount" -d 'Mount the volume: the same as run, on --mountpoint or else the volume\'s stored mountpoint'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "check" -d 'Check the volume as stored in this device\'s silo, with its node stopped; exit 1 if problems remain'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "push" -d 'Publish a volume you created on the hub (without its local mount options)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "fetch" -d 'Get volumes from the hub: one by name, those of a network, or (neither) all you can reach'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "pull" -d 'Remove a volume you created from the hub'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "init" -d 'Create (if missing) a user, a silo, a one-node network and a volume, then mount it'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from journal" -f -a "stat" -d 'Count the operations waiting in the journal of each linked network (or one)'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from journal" -f -a "describe" -d 'List the operations waiting in a network\'s journal, and those the network refused'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "transmit" -d 'Leave your user\'s identity on the hub, under a passphrase, for another device to receive'
complete -c infinit -n "__fish_infinit_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "receive" -d 'Receive a user\'s identity transmitted from another device'
