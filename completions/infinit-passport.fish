complete -c infinit-passport -l network -d 'Network the passport is for' -r
complete -c infinit-passport -l user -d 'User who holds the passport' -r
complete -c infinit-passport -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit-passport -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit-passport -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit-passport -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit-passport -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit-passport -l create -d 'Sign a passport letting a user join a network (as its owner or a delegate)'
complete -c infinit-passport -l list -d 'List local passports'
complete -c infinit-passport -l export -d 'Export a passport to give it to its holder'
complete -c infinit-passport -l import -d 'Import a passport (the network must be imported first)'
complete -c infinit-passport -l delete -d 'Delete a local passport'
complete -c infinit-passport -l push -d 'Publish a passport on the hub (as the network\'s owner or the delegate who signed it)'
complete -c infinit-passport -l fetch -d 'Get passports from the hub: yours on a network, all of a network you own, or all you hold'
complete -c infinit-passport -l pull -d 'Remove a passport from the hub (its network\'s owner, its holder or its signer)'
complete -c infinit-passport -l deny-write -d 'The holder may only read'
complete -c infinit-passport -l deny-storage -d 'The holder may not contribute storage'
complete -c infinit-passport -l allow-create-passport -d 'The holder may sign passports for others'
complete -c infinit-passport -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit-passport -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit-passport -s h -l help -d 'Print help'
complete -c infinit-passport -s V -l version -d 'Print version'
