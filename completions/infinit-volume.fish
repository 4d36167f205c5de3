complete -c infinit-volume -l network -d 'Network the volume lives on' -r
complete -c infinit-volume -l description -d 'Free text describing the volume' -r
complete -c infinit-volume -l block-size -d 'Size of file content blocks, e.g. 1MiB (4KiB to 64MiB)' -r
complete -c infinit-volume -l mountpoint -d 'Default mountpoint' -r -F
complete -c infinit-volume -l readonly -d 'Mount read-only by default' -r -f -a "true\t''
false\t''"
complete -c infinit-volume -l cache -d 'Keep a RAM block cache by default' -r -f -a "true\t''
false\t''"
complete -c infinit-volume -l async -d 'Write back through the on-disk journal by default' -r -f -a "true\t''
false\t''"
complete -c infinit-volume -l name -d 'Name of the volume' -r
complete -c infinit-volume -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit-volume -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit-volume -l fuse-option -d 'Extra FUSE mount option, e.g. allow_other (repeat for several)' -r
complete -c infinit-volume -l cache-ram-size -d 'Size of the RAM cache, e.g. 256MiB (implies --cache)' -r
complete -c infinit-volume -l revalidate -d 'How long a cached file or directory is trusted before it is read again, so that changes by another writer of the same blocks show within about this delay (e.g. 500ms, 5s; 0s reads every time)' -r
complete -c infinit-volume -l listen -d 'Address to listen on for other nodes, e.g. 0.0.0.0 or 127.0.0.2:4000 [default: 0.0.0.0]' -r
complete -c infinit-volume -l port -d 'Port to listen on [default: any free port]' -r
complete -c infinit-volume -l port-file -d 'Write the port listened on to this file once bound' -r -F
complete -c infinit-volume -l advertise-host -d 'Host name or address other nodes reach this one at (repeat for several)' -r
complete -c infinit-volume -l peer -d 'A node to join through, HOST:PORT (repeat for several; a name is tried at each address it resolves to); a file of such lines also works' -r
complete -c infinit-volume -l peers-file -d 'File of known peers, read at start and kept up to date while running' -r -F
complete -c infinit-volume -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit-volume -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit-volume -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit-volume -l create -d 'Create a volume on a network linked to this device'
complete -c infinit-volume -l list -d 'List local volumes'
complete -c infinit-volume -l export -d 'Export a volume descriptor (without its local mountpoint)'
complete -c infinit-volume -l import -d 'Import a volume descriptor'
complete -c infinit-volume -l update -d 'Change a volume\'s default mount options (and, for its creator, its description)'
complete -c infinit-volume -l delete -d 'Delete a local volume descriptor (the data on the network is not touched)'
complete -c infinit-volume -l run -d 'Run this device\'s node and serve the volume through FUSE until Ctrl-C'
complete -c infinit-volume -l mount -d 'Mount the volume: the same as run, on --mountpoint or else the volume\'s stored mountpoint'
complete -c infinit-volume -l check -d 'Check the volume as stored in this device\'s silo, with its node stopped; exit 1 if problems remain'
complete -c infinit-volume -l push -d 'Publish a volume you created on the hub (without its local mount options)'
complete -c infinit-volume -l fetch -d 'Get volumes from the hub: one by name, those of a network, or (neither) all you can reach'
complete -c infinit-volume -l pull -d 'Remove a volume you created from the hub'
complete -c infinit-volume -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit-volume -l publish -d 'Publish where this node is reached on the hub (--hub or INFINIT_HUB), and keep it published while the node runs, so that other nodes find it without --peer'
complete -c infinit-volume -l fetch-endpoints -d 'Find peers through the endpoints published on the hub [default: on when a hub is configured and the node joins a network of several nodes]'
complete -c infinit-volume -l no-fetch-endpoints -d 'Do not look for peers on the hub'
complete -c infinit-volume -l repair -d 'Fix what can be fixed: unlink dangling and stale entries, make lost chunks holes, set link counts, link orphans into /lost+found, remove leaked blocks; then check again'
complete -c infinit-volume -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit-volume -s h -l help -d 'Print help'
complete -c infinit-volume -s V -l version -d 'Print version'
