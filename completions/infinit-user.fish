complete -c infinit-user -l description -d 'Free text describing the user' -r
complete -c infinit-user -l name -d 'Name of the user' -r
complete -c infinit-user -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit-user -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit-user -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit-user -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit-user -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit-user -l create -d 'Create a user: a new Ed25519 signing key and X25519 encryption key'
complete -c infinit-user -l export -d 'Export a user (public part unless --full) to stdout or a file'
complete -c infinit-user -l import -d 'Import a user exported by someone (or by yourself with --full)'
complete -c infinit-user -l list -d 'List local users'
complete -c infinit-user -l delete -d 'Delete a local user (asks for confirmation if its private key is here)'
complete -c infinit-user -l hash -d 'Print the short hash of a user\'s key, e.g. #3fa9c1'
complete -c infinit-user -l signup -d 'Create a user and publish it on the hub (with --full, to log in from other devices)'
complete -c infinit-user -l login -d 'Get your user from the hub on this device, with its hub password (after signup --full)'
complete -c infinit-user -l fetch -d 'Get someone\'s public user from the hub, by name or by key hash (#3fa9c1)'
complete -c infinit-user -l push -d 'Publish a local user on the hub (with --full, its key protected by a hub password)'
complete -c infinit-user -l pull -d 'Remove a user from the hub (the local user stays)'
complete -c infinit-user -l passphrase -d 'Protect the private key with a passphrase typed at a prompt (or taken from INFINIT_PASSPHRASE)'
complete -c infinit-user -l passphrase-stdin -d 'Protect the private key with a passphrase read from the first line of standard input'
complete -c infinit-user -l full -d 'Include the private key (keep the result secret)'
complete -c infinit-user -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit-user -l yes -d 'Do not ask for confirmation (required with --script when the private key is here)'
complete -c infinit-user -l purge -d 'Also delete the networks, volumes and passports this user owns'
complete -c infinit-user -l password -d 'Ask for the hub password (INFINIT_PASSWORD, else a line of standard input, else a prompt); implied by --full'
complete -c infinit-user -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit-user -s h -l help -d 'Print help'
complete -c infinit-user -s V -l version -d 'Print version'
