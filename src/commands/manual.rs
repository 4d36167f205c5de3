//! The man page sections clap does not derive from the options: EXIT
//! STATUS, ENVIRONMENT and FILES (the same on every page) and EXAMPLES (per
//! page), rendered as roff for [`super::generated`].

/// How each exit code is meant.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "The command could not be carried out: one line \"infinit: error: ...\" on standard error, and nothing was written. \
         A list mode exits 1 after listing the others when it skipped damaged descriptor files (each named on standard error); \
         volume check exits 1 when problems remain.",
    ),
    (
        "2",
        "The command line is wrong (unknown option, missing argument, unknown object or mode): the problem and the --help to read.",
    ),
    ("130", "Interrupted at a prompt (Ctrl-C); the terminal is left as it was."),
];

/// The environment variables infinit reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("INFINIT_USER", "The local user to act as, like --as. Default: the login name ($USER, $LOGNAME)."),
    ("INFINIT_HOME", "Base directory for infinit's data and state instead of $HOME, like --home."),
    ("INFINIT_DATA_HOME", "Where descriptors go, overriding every other rule."),
    ("INFINIT_STATE_HOME", "Where node state (journals, freshness floors) goes, overriding every other rule."),
    ("XDG_DATA_HOME, XDG_STATE_HOME", "Used when INFINIT_HOME is not set."),
    (
        "INFINIT_PASSPHRASE",
        "Passphrase of protected private keys; without it, signing modes prompt on a terminal (never in --script mode).",
    ),
    ("AWS_SECRET_ACCESS_KEY", "Secret of credentials add --aws (else standard input, else a prompt)."),
    ("INFINIT_HUB", "The hub's URL, like --hub, e.g. http://127.0.0.1:8080 (see infinit-hub)."),
    (
        "INFINIT_PASSWORD",
        "Hub password of user signup --full, user push --full and user login (else standard input, else a prompt).",
    ),
    (
        "INFINIT_HUB_CLOCK_OFFSET",
        "Seconds added to this device's clock when signing hub requests (the hub refuses times 5 minutes off).",
    ),
    (
        "INFINIT_PAIRING_PASSPHRASE",
        "Passphrase of device transmit and device receive (else standard input, else a prompt).",
    ),
    ("INFINIT_LOG", "Filter of the log lines a node prints on standard error, e.g. info or debug (default: warn)."),
    ("INFINIT_LOG_TIME", "When set, each log line starts with the seconds since the process started."),
];

/// The files infinit keeps, under the data folder unless said otherwise.
const FILES: &[(&str, &str)] = &[
    (
        "$INFINIT_HOME/.local/share/infinit/filesystem/",
        "The data folder (else $XDG_DATA_HOME/infinit/filesystem, else ~/.local/share/infinit/filesystem). \
         Descriptors are pretty JSON, written atomically, never overwritten silently.",
    ),
    ("users/USER", "A user: public keys, and its private keys (the file is then mode 0600)."),
    ("silos/SILO", "A silo descriptor."),
    ("credentials/aws/NAME, credentials/gcs/NAME", "Cloud credentials (mode 0600)."),
    ("networks/OWNER/NETWORK", "A network descriptor, signed by its owner."),
    (
        "linked_networks/USER/OWNER/NETWORK",
        "This device's link to a network: its node key and the user's passport (mode 0600).",
    ),
    ("passports/OWNER/NETWORK/USER", "A passport, signed by the network's owner or a delegate."),
    ("volumes/OWNER/VOLUME", "A volume descriptor, signed by its owner."),
    ("blocks/SILO/", "The blocks of a filesystem silo, by default."),
    (
        "$INFINIT_HOME/.local/state/infinit/filesystem/networks/USER/OWNER/NETWORK/",
        "A node's state: node.lock (held by a running node, with its pid), freshness.redb and async/, the write-back journal.",
    ),
];

/// Examples of one page, by page name (`infinit-network-create`).
fn examples(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "infinit" => &[
            ("infinit cluster init --mountpoint ~/infinit", "A one-node volume mounted on ~/infinit, in one command."),
            (
                "infinit user create",
                "Then silo create, network create, volume create and volume run; see each object's page.",
            ),
        ],
        "infinit-cluster" | "infinit-cluster-init" => &[
            (
                "infinit cluster init --mountpoint ~/infinit",
                "Create (or reuse) a user, a silo, a network and a volume, then mount it.",
            ),
            ("infinit cluster init --name photos --capacity 100GB --mountpoint /mnt/photos --no-mount", "Set up only."),
        ],
        "infinit-credentials" | "infinit-credentials-add" => &[
            (
                "AWS_SECRET_ACCESS_KEY=... infinit credentials add --aws --name mine --access-key-id AKIA123",
                "AWS or S3-compatible credentials.",
            ),
            ("infinit credentials add --gcs --name g --key-file key.json", "A GCS service account key."),
        ],
        "infinit-credentials-list" => &[("infinit credentials list --aws", "AWS credentials, without their secrets.")],
        "infinit-credentials-delete" => &[("infinit credentials delete --aws --name mine", "Once no silo uses them.")],
        "infinit-journal" | "infinit-journal-stat" => {
            &[("infinit journal stat", "What waits to be stored, per linked network.")]
        }
        "infinit-journal-describe" => {
            &[("infinit journal describe --network home", "Each waiting and refused operation.")]
        }
        "infinit-network" | "infinit-network-create" => &[
            (
                "infinit network create --name home --silo local",
                "A network owned by you (\"alice/home\"), linked with your silo.",
            ),
            ("infinit network create home --replication-factor 3 --peer 192.0.2.1:9000", "Three copies of each block."),
        ],
        "infinit-network-link" => {
            &[("infinit network link --name alice/home --silo bobs-silo", "Join with the passport Alice gave you.")]
        }
        "infinit-network-unlink" => {
            &[("infinit network unlink home", "Forget this device's link (its node must be stopped).")]
        }
        "infinit-network-list" => &[("infinit network list --script", "One JSON document per network.")],
        "infinit-network-export" => {
            &[("infinit network export --name home --output home.network", "Give it to members.")]
        }
        "infinit-network-import" => &[("infinit network import --input home.network", "A network someone shared.")],
        "infinit-network-update" => &[("infinit network update home --replication-factor 2", "As its owner.")],
        "infinit-network-delete" => {
            &[("infinit network delete home --unlink --purge", "With its links, passports and volumes.")]
        }
        "infinit-network-inspect" => &[(
            "infinit network inspect --name home",
            "What this device's running node sees: peers, alive or down, space, blocks.",
        )],
        "infinit-network-run" => &[
            ("infinit network run home", "Serve this device's node without mounting, until Ctrl-C."),
            (
                "infinit network run home --listen 10.0.0.2 --port 4000 --peer 10.0.0.1:4000",
                "Join the other nodes of the network through one of them.",
            ),
        ],
        "infinit-passport" | "infinit-passport-create" => &[
            ("infinit passport create --network home --user bob", "Let bob join alice/home."),
            ("infinit passport create --network home --user eve --deny-write --deny-storage", "Read-only, no storage."),
        ],
        "infinit-passport-list" => &[("infinit passport list --network home", "The passports of one network.")],
        "infinit-passport-export" => {
            &[("infinit passport export --network home --user bob --output bob.passport", "Give it to bob.")]
        }
        "infinit-passport-import" => {
            &[("infinit passport import --input bob.passport", "After importing the network.")]
        }
        "infinit-passport-delete" => &[("infinit passport delete --network home --user bob", "Forget it locally.")],
        "infinit-silo" | "infinit-silo-create" | "infinit-silo-create-filesystem" => &[
            ("infinit silo create filesystem --name local --capacity 10GB", "A folder under the data folder."),
            (
                "infinit silo create filesystem --name disk --path /srv/infinit",
                "A folder of your choice (empty or new).",
            ),
        ],
        "infinit-silo-create-memory" => {
            &[("infinit silo create memory --name ram --capacity 512MiB", "Lost when the node stops.")]
        }
        "infinit-silo-create-s3" => &[(
            "infinit silo create s3 --name bucket --endpoint https://s3.eu-west-1.amazonaws.com --region eu-west-1 --bucket my-bucket --credentials mine",
            "An S3 bucket, with credentials added first.",
        )],
        "infinit-silo-create-gcs" => {
            &[("infinit silo create gcs --name g --bucket my-bucket --credentials g", "A GCS bucket.")]
        }
        "infinit-silo-list" => &[("infinit silo list", "Where each silo keeps its blocks, and its capacity.")],
        "infinit-silo-export" => &[("infinit silo export --name local --output /tmp/", "Writes /tmp/local.silo.")],
        "infinit-silo-import" => &[("infinit silo import --input local.silo", "Credentials are referenced by name.")],
        "infinit-silo-delete" => &[("infinit silo delete --name local --clear-content", "With the blocks it holds.")],
        "infinit-user" | "infinit-user-create" => &[
            ("infinit user create", "A user named after your login name."),
            ("infinit user create --name alice --passphrase", "With a passphrase typed at a prompt."),
        ],
        "infinit-user-export" => &[
            ("infinit user export --output bob.user", "The public part, to give to others."),
            ("infinit user export --full --output backup.user", "With the private key: keep it secret."),
        ],
        "infinit-user-import" => &[("infinit user import --input bob.user", "Someone's public identity.")],
        "infinit-user-list" => &[("infinit user list", "Local users; * marks the acting one.")],
        "infinit-user-delete" => {
            &[("infinit --script user delete --name eve --yes", "Without a prompt: --yes is required.")]
        }
        "infinit-user-hash" => &[("infinit user hash bob", "The short hash to compare over the phone.")],
        "infinit-volume" | "infinit-volume-create" => &[(
            "infinit volume create --name files --network home --mountpoint ~/files",
            "A volume on a linked network.",
        )],
        "infinit-volume-run" | "infinit-volume-mount" => &[
            ("infinit volume run --name files --mountpoint ~/files", "Mount until Ctrl-C or SIGTERM."),
            (
                "infinit volume mount files --async --cache",
                "On the stored mountpoint, with a write-back journal and a RAM cache.",
            ),
        ],
        "infinit-volume-list" => &[("infinit volume list", "Local volumes and their mountpoints.")],
        "infinit-volume-export" => {
            &[("infinit volume export --name files --output files.volume", "Without the local mountpoint.")]
        }
        "infinit-volume-import" => {
            &[("infinit volume import --input files.volume --mountpoint ~/files", "With a mountpoint here.")]
        }
        "infinit-volume-update" => &[("infinit volume update files --readonly", "Mount read-only by default.")],
        "infinit-volume-delete" => {
            &[("infinit volume delete files", "The descriptor only: the data stays on the network.")]
        }
        "infinit-volume-check" => &[("infinit volume check --name files --repair", "With its node stopped.")],
        "infinit-user-signup" => &[
            ("infinit user signup", "Create your user and publish its public part on the hub (INFINIT_HUB)."),
            ("infinit user signup --full --password", "Also keep its key there under a hub password, for user login."),
        ],
        "infinit-user-login" => {
            &[("infinit user login --name alice", "On another device: get alice back with her hub password.")]
        }
        "infinit-user-fetch" => &[
            ("infinit user fetch bob", "Bob's public user, to give him a passport."),
            ("infinit user fetch '#3fa9c1'", "A user by the short hash of its key."),
        ],
        "infinit-user-push" => &[("infinit user push --full", "Publish yourself, with your key under a hub password.")],
        "infinit-user-pull" => &[("infinit user pull --purge", "Leave the hub, with what you published there.")],
        "infinit-network-push" => &[("infinit network push home", "Publish alice/home for its members.")],
        "infinit-network-fetch" => &[
            ("infinit network fetch alice/home", "A network someone published (and its owner's public user)."),
            ("infinit network fetch", "Every network you own or hold a passport for."),
        ],
        "infinit-network-pull" => &[("infinit network pull home", "Remove it from the hub, with its passports.")],
        "infinit-passport-push" => {
            &[("infinit passport push --network home --user bob", "Publish bob's passport for him to fetch.")]
        }
        "infinit-passport-fetch" => &[
            ("infinit passport fetch --network alice/home", "Your passport for alice/home."),
            ("infinit passport fetch", "Every passport you hold."),
        ],
        "infinit-passport-pull" => &[("infinit passport pull --network home --user bob", "Withdraw it from the hub.")],
        "infinit-volume-push" => &[("infinit volume push files", "Publish it, without your mount options.")],
        "infinit-volume-fetch" => &[
            ("infinit volume fetch alice/files", "One volume."),
            ("infinit volume fetch --network alice/home", "Every volume of a network."),
        ],
        "infinit-volume-pull" => &[("infinit volume pull files", "Remove it from the hub (the data stays).")],
        "infinit-device" | "infinit-device-transmit" => &[(
            "infinit device transmit --user",
            "Leave your identity on the hub under a passphrase for 5 minutes, for one other device.",
        )],
        "infinit-device-receive" => {
            &[("infinit device receive --user --name alice", "On the other device, with the same passphrase.")]
        }
        _ => &[],
    }
}

/// Escape `text` for a roff text line.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('-', "\\-");
    // A line starting with a dot or quote would be read as a request.
    if escaped.starts_with('.') || escaped.starts_with('\'') { format!("\\&{escaped}") } else { escaped }
}

/// One `.SH` section of tagged paragraphs.
fn section(out: &mut String, title: &str, items: &[(&str, &str)], bold: bool) {
    out.push_str(&format!(".SH \"{title}\"\n"));
    for (term, text) in items {
        let term = if bold { format!("\\fB{}\\fR", roff(term)) } else { roff(term) };
        out.push_str(&format!(".TP\n{term}\n{}\n", roff(text)));
    }
}

/// The sections of page `page` that follow the options and subcommands.
pub fn extra_sections(page: &str) -> String {
    let mut out = String::new();
    section(&mut out, "EXIT STATUS", EXIT_STATUS, true);
    section(&mut out, "ENVIRONMENT", ENVIRONMENT, true);
    section(&mut out, "FILES", FILES, false);
    let examples = examples(page);
    if !examples.is_empty() {
        section(&mut out, "EXAMPLES", examples, true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_escapes_dashes_backslashes_and_leading_dots() {
        assert_eq!(roff("--as a\\b"), "\\-\\-as a\\\\b");
        assert_eq!(roff(".hidden"), "\\&.hidden");
    }

    #[test]
    fn every_page_has_examples() {
        let mut cmd = crate::cli::command();
        cmd.build();
        fn walk(cmd: &clap::Command, name: &str) {
            assert!(!examples(name).is_empty(), "{name} has no EXAMPLES");
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{name}-{}", sub.get_name()));
            }
        }
        walk(&cmd, "infinit");
    }
}
