complete -c infinit-credentials -l name -d 'Local name of these credentials' -r
complete -c infinit-credentials -l access-key-id -d 'AWS access key id' -r
complete -c infinit-credentials -l key-file -d 'GCS service account key file (JSON)' -r -F
complete -c infinit-credentials -l as -d 'Act as this local user [default: the login name]' -r
complete -c infinit-credentials -l home -d 'Base directory for infinit\'s data and state [default: $HOME]' -r -F
complete -c infinit-credentials -l hub -d 'The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080' -r
complete -c infinit-credentials -l add -d 'Add credentials (the secret comes from the environment, standard input or a prompt)'
complete -c infinit-credentials -l list -d 'List credentials (secrets are never shown)'
complete -c infinit-credentials -l delete -d 'Delete credentials'
complete -c infinit-credentials -l aws -d 'Amazon Web Services or any S3-compatible service (secret key from $AWS_SECRET_ACCESS_KEY, stdin or a prompt)'
complete -c infinit-credentials -l gcs -d 'Google Cloud Storage (service account key JSON from --key-file or stdin)'
complete -c infinit-credentials -l script -d 'Machine mode: one compact JSON document per line on stdout, no prompts'
complete -c infinit-credentials -s h -l help -d 'Print help'
complete -c infinit-credentials -s V -l version -d 'Print version'
