complete -c infinit-storage -l description -d 'Free text describing the silo' -r
complete -c infinit-storage -l capacity -d 'Maximum size stored, e.g. 10GB or 512MiB [default: unlimited]' -r
complete -c infinit-storage -l path -d 'Folder for the blocks (created if missing; must be empty) [default: <data home>/blocks/<name>]' -r -F
complete -c infinit-storage -l name -d 'Name of the silo' -r
complete -c infinit-storage -l endpoint -d 'Endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000' -r
complete -c infinit-storage -l bucket -d 'Bucket name' -r
complete -c infinit-storage -l region -d 'Region, e.g. eu-west-1' -r
complete -c infinit-storage -l credentials -d 'Name of the AWS credentials to use (see: infinit credentials add --aws)' -r
complete -c infinit-storage -l folder -d 'Folder (key prefix) inside the bucket [default: <name>_blocks]' -r
complete -c infinit-storage -l output -d 'Write to this file (or into this folder, as <name>.<kind>) instead of standard output' -r -F
complete -c infinit-storage -l input -d 'Read from this file instead of standard input' -r -F
complete -c infinit-storage -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit-storage -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit-storage -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit-storage -l create -d 'Create a silo'
complete -c infinit-storage -l filesystem -d 'A local folder: one file per block in sharded subfolders'
complete -c infinit-storage -l memory -d 'RAM only: everything is lost when the node stops (tests, throwaway networks)'
complete -c infinit-storage -l s3 -d 'An S3-compatible bucket'
complete -c infinit-storage -l gcs -d 'A Google Cloud Storage bucket'
complete -c infinit-storage -l list -d 'List local silos'
complete -c infinit-storage -l export -d 'Export a silo descriptor (credentials are referenced by name, never included)'
complete -c infinit-storage -l import -d 'Import a silo descriptor'
complete -c infinit-storage -l delete -d 'Delete a silo'
complete -c infinit-storage -l force -d 'Replace an existing descriptor of the same name with different content'
complete -c infinit-storage -l clear-content -d 'Also erase the blocks stored in a filesystem silo\'s folder'
complete -c infinit-storage -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit-storage -s h -l help -d 'Print help'
complete -c infinit-storage -s V -l version -d 'Print version'
