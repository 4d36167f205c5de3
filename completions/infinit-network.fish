complete -c infinit-network -l silo -l storage -d 'Silo this device contributes (repeat for several); none makes a pure client' -r
complete -c infinit-network -l replication-factor -d 'Number of nodes that keep each block' -r
complete -c infinit-network -l overlay -d 'How nodes find each other and place blocks' -r -f -a "gossip\t'Gossip membership with failure detection (default)'
static\t'A fixed list of peers'
single\t'One node holds everything'"
complete -c infinit-network -l eviction-delay -d 'How long a node may be silent before its blocks are re-replicated elsewhere' -r
complete -c infinit-network -l peer -d 'Bootstrap peer host:port (repeat for several)' -r
complete -c infinit-network -l description -d 'Free text describing the network' -r
complete -c infinit-network -l name -d 'Name of the network' -r
complete -c infinit-network -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit-network -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit-network -l listen -d 'Address to listen on for other nodes, e.g. 0.0.0.0 or 127.0.0.2:4000 [default: 0.0.0.0]' -r
complete -c infinit-network -l port -d 'Port to listen on [default: any free port]' -r
complete -c infinit-network -l port-file -d 'Write the port listened on to this file once bound' -r -F
complete -c infinit-network -l advertise-host -d 'Host name or address other nodes reach this one at (repeat for several)' -r
complete -c infinit-network -l peers-file -d 'File of known peers, read at start and kept up to date while running' -r -F
complete -c infinit-network -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit-network -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit-network -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit-network -l create -d 'Create a network owned by you, and link it to this device'
complete -c infinit-network -l link -d 'Link a network to this device (needs a passport unless you own it)'
complete -c infinit-network -l unlink -d 'Unlink a network from this device'
complete -c infinit-network -l list -d 'List networks known on this device'
complete -c infinit-network -l export -d 'Export a network descriptor (to share it with members)'
complete -c infinit-network -l import -d 'Import a network descriptor'
complete -c infinit-network -l update -d 'Change a network you own (description, replication, eviction delay, peers)'
complete -c infinit-network -l delete -d 'Delete a network descriptor from this device'
complete -c infinit-network -l run -d 'Run this device\'s node of the network until Ctrl-C; with --listen, --port or --peer it joins the other nodes of the network'
complete -c infinit-network -l inspect -d 'Show what this device\'s running node sees: its peers (endpoints, alive, suspect or down, space), the blocks it stores and how many have fewer live replicas than the replication factor'
complete -c infinit-network -l push -d 'Publish a network you own on the hub'
complete -c infinit-network -l fetch -d 'Get a network from the hub (without a name: every network you own or hold a passport for)'
complete -c infinit-network -l pull -d 'Remove a network you own from the hub, with its passports and endpoints there'
complete -c infinit-network -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit-network -l purge -d 'Also delete the passports and volumes of this network'
complete -c infinit-network -l publish -d 'Publish where this node is reached on the hub (--hub or INFINIT_HUB), and keep it published while the node runs, so that other nodes find it without --peer'
complete -c infinit-network -l fetch-endpoints -d 'Find peers through the endpoints published on the hub [default: on when a hub is configured and the node joins a network of several nodes]'
complete -c infinit-network -l no-fetch-endpoints -d 'Do not look for peers on the hub'
complete -c infinit-network -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit-network -s h -l help -d 'Print help (see more with \'--help\')'
complete -c infinit-network -s V -l version -d 'Print version'
