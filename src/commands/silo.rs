//! `infinit silo` (alias `storage`): create, list, export, import and delete
//! the places where a node keeps its blocks.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{Context, parse_input};
use super::usage;
use crate::cli::{ExportArgs, InputArg, NameArg};
use crate::descriptors::silo::SiloBackend;
use crate::descriptors::{Credentials, Kind, LinkedNetwork, Silo, names, units};
use crate::runtime::node::SiloSpec;
use crate::runtime::silo::{CloudConfig, GcsConfig, S3Config, SiloId, filesystem};

/// Modes of `infinit silo`.
#[derive(Debug, Subcommand)]
pub enum SiloMode {
    /// Create a silo
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Create(SiloType),
    /// List local silos
    #[command(long_about = format!("List local silos.\n\n{}", super::LIST_DAMAGED_NOTE))]
    List,
    /// Export a silo descriptor (credentials are referenced by name, never included)
    Export(ExportArgs),
    /// Import a silo descriptor
    Import(InputArg),
    /// Delete a silo
    Delete(DeleteArgs),
}

/// The kinds of silo `silo create` makes.
#[derive(Debug, Subcommand)]
pub enum SiloType {
    /// A local folder: one file per block in sharded subfolders
    Filesystem(FilesystemArgs),
    /// RAM only: everything is lost when the node stops (tests, throwaway networks)
    Memory(CommonArgs),
    /// An S3-compatible bucket
    S3(S3Args),
    /// A Google Cloud Storage bucket
    Gcs(GcsArgs),
}

/// Options shared by every silo type.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    name: NameArg,
    /// Free text describing the silo
    #[arg(long)]
    description: Option<String>,
    /// Maximum size stored, e.g. 10GB or 512MiB [default: unlimited]
    #[arg(short, long, allow_hyphen_values = true, value_name = "SIZE")]
    capacity: Option<String>,
}

/// Options of `silo create filesystem`.
#[derive(Debug, Args)]
pub struct FilesystemArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Folder for the blocks (created if missing; must be empty) [default: <data home>/blocks/<name>]
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
}

/// Options of `silo create s3`.
#[derive(Debug, Args)]
pub struct S3Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000
    #[arg(long, value_name = "URL")]
    endpoint: String,
    /// Bucket name
    #[arg(long)]
    bucket: String,
    /// Region, e.g. eu-west-1
    #[arg(long)]
    region: String,
    /// Name of the AWS credentials to use (see: infinit credentials add --aws)
    #[arg(long, value_name = "NAME")]
    credentials: String,
    /// Folder (key prefix) inside the bucket [default: <name>_blocks]
    #[arg(long)]
    folder: Option<String>,
}

/// Options of `silo create gcs`.
#[derive(Debug, Args)]
pub struct GcsArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Bucket name
    #[arg(long)]
    bucket: String,
    /// Name of the GCS credentials to use (see: infinit credentials add --gcs)
    #[arg(long, value_name = "NAME")]
    credentials: String,
    /// Folder (key prefix) inside the bucket [default: <name>_blocks]
    #[arg(long)]
    folder: Option<String>,
}

/// Options of `silo delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    name: NameArg,
    /// Also erase the blocks stored in a filesystem silo's folder
    #[arg(long)]
    clear_content: bool,
}

/// Run a `silo` mode.
pub fn run(ctx: &Context, mode: SiloMode) -> anyhow::Result<()> {
    match mode {
        SiloMode::Create(kind) => create(ctx, kind),
        SiloMode::List => list(ctx),
        SiloMode::Export(args) => {
            let name = required(&args.name, "silo export")?;
            let silo = load(ctx, &name)?;
            ctx.export("silo", &name, &silo, args.output.output.as_deref(), false)?;
            Ok(())
        }
        SiloMode::Import(args) => import(ctx, args),
        SiloMode::Delete(args) => delete(ctx, args),
    }
}

/// The types `silo create` takes, as its usage shows them.
const TYPES: [&str; 4] = ["filesystem", "memory", "s3", "gcs"];

/// When `silo create` (or `storage create`) fails to parse because the
/// type is missing (`silo create --name s1`), the usage error to show
/// instead of clap's `unexpected argument '--name'`.
pub fn missing_type(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<super::UsageError> {
    use clap::error::ErrorKind;
    if !matches!(e.kind(), ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand | ErrorKind::MissingSubcommand) {
        return None;
    }
    let words: Vec<String> = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let object = words.iter().position(|w| w == "silo" || w == "storage")?;
    if words.get(object + 1).map(String::as_str) != Some("create") {
        return None;
    }
    let rest = &words[object + 2..];
    let first = rest.first()?;
    if TYPES.contains(&first.as_str()) || ["help", "-h", "--help"].contains(&first.as_str()) {
        return None;
    }
    let example = format!("infinit silo create filesystem {}", rest.join(" "));
    Some(super::UsageError {
        message: format!(
            "the silo type is missing: infinit silo create <{}> [OPTIONS], e.g. {}",
            TYPES.join("|"),
            example.trim_end()
        ),
        help: "infinit silo create --help".into(),
    })
}

fn required(name: &NameArg, mode: &str) -> anyhow::Result<String> {
    let name = name.get().ok_or_else(|| usage(mode, "the silo name is required: --name NAME"))?;
    names::check("silo", name)?;
    Ok(name.to_string())
}

/// Load and check a silo descriptor.
pub fn load(ctx: &Context, name: &str) -> anyhow::Result<Silo> {
    names::check("silo", name)?;
    Ok(ctx.store.load(Kind::Silo, name)?)
}

fn create(ctx: &Context, kind: SiloType) -> anyhow::Result<()> {
    let (common, type_name) = match &kind {
        SiloType::Filesystem(args) => (&args.common, "filesystem"),
        SiloType::Memory(common) => (common, "memory"),
        SiloType::S3(args) => (&args.common, "s3"),
        SiloType::Gcs(args) => (&args.common, "gcs"),
    };
    // Everything is checked before anything is written (the folder included).
    let name = required(&common.name, &format!("silo create {type_name}"))?;
    let capacity = common
        .capacity
        .as_deref()
        .map(units::parse_capacity)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--capacity: {e}"))?;
    let description = common.description.clone();
    if ctx.store.exists(Kind::Silo, &name) {
        bail!("silo \"{name}\" already exists");
    }
    let mut id = None;
    let backend = match kind {
        SiloType::Filesystem(args) => {
            let path = args.path.unwrap_or_else(|| ctx.store.home.data.join("blocks").join(&name));
            let (path, created) = prepare_folder(&name, &path)?;
            id = Some(created);
            SiloBackend::Filesystem { path }
        }
        SiloType::Memory(_) => SiloBackend::Memory,
        SiloType::S3(args) => {
            credentials_exist(ctx, "aws", &args.credentials)?;
            if !(args.endpoint.starts_with("http://") || args.endpoint.starts_with("https://")) {
                bail!("invalid endpoint \"{}\": expected an http:// or https:// URL", args.endpoint);
            }
            // The bucket is not contacted now: its first open writes the marker.
            id = Some(SiloId::random()?);
            let folder = args.folder.unwrap_or_else(|| format!("{name}_blocks"));
            SiloBackend::S3 {
                endpoint: args.endpoint,
                bucket: args.bucket,
                region: args.region,
                credentials: args.credentials,
                folder,
            }
        }
        SiloType::Gcs(args) => {
            credentials_exist(ctx, "gcs", &args.credentials)?;
            id = Some(SiloId::random()?);
            let folder = args.folder.unwrap_or_else(|| format!("{name}_blocks"));
            SiloBackend::Gcs { bucket: args.bucket, credentials: args.credentials, folder }
        }
    };
    save_new(ctx, Silo { name, description, capacity, id, backend })
}

/// The runtime settings of `silo`, with its credentials resolved.
pub fn node_spec(ctx: &Context, silo: &Silo) -> anyhow::Result<SiloSpec> {
    let name = silo.name.clone();
    let capacity = silo.capacity;
    let id = silo.id;
    Ok(match &silo.backend {
        SiloBackend::Filesystem { path } => SiloSpec::Filesystem { name, path: path.clone(), id, capacity },
        SiloBackend::Memory => SiloSpec::Memory { name, capacity },
        SiloBackend::S3 { endpoint, bucket, region, credentials, folder } => {
            let loaded: Credentials = ctx.store.load(Kind::Credentials, &format!("aws/{credentials}"))?;
            let Credentials::Aws { access_key_id, secret_access_key, .. } = &loaded else {
                bail!("silo \"{name}\": credentials \"{credentials}\" are not AWS credentials");
            };
            let mut config = S3Config::new(Some(endpoint), region, bucket, access_key_id, secret_access_key);
            config.folder = folder.clone();
            SiloSpec::Cloud { name, config: CloudConfig::S3(config), id, capacity }
        }
        SiloBackend::Gcs { bucket, credentials, folder } => {
            let loaded: Credentials = ctx.store.load(Kind::Credentials, &format!("gcs/{credentials}"))?;
            let Credentials::Gcs { service_account_key, .. } = &loaded else {
                bail!("silo \"{name}\": credentials \"{credentials}\" are not GCS credentials");
            };
            let mut config = GcsConfig::new(bucket, service_account_key);
            config.folder = folder.clone();
            SiloSpec::Cloud { name, config: CloudConfig::Gcs(config), id, capacity }
        }
    })
}

/// Save a new silo descriptor and report it.
pub fn save_new(ctx: &Context, silo: Silo) -> anyhow::Result<()> {
    ctx.store.create(Kind::Silo, &silo.name, &silo)?;
    ctx.out.report("saved", "silo", &silo.name, &format!("Locally saved silo \"{}\".", silo.name));
    Ok(())
}

/// Make `path` (created if missing, else empty) the folder of the new silo
/// `name`, with its marker; return its absolute form and the silo's id.
pub fn prepare_folder(name: &str, path: &Path) -> anyhow::Result<(PathBuf, SiloId)> {
    if path.exists() && !path.is_dir() {
        bail!("silo path \"{}\" exists and is not a folder", path.display());
    }
    std::fs::create_dir_all(path).with_context(|| format!("cannot create silo folder \"{}\"", path.display()))?;
    let path = path.canonicalize().with_context(|| format!("cannot resolve \"{}\"", path.display()))?;
    let id = filesystem::create(name, &path)?;
    Ok((path, id))
}

fn credentials_exist(ctx: &Context, service: &str, name: &str) -> anyhow::Result<()> {
    names::check("credentials", name)?;
    if !ctx.store.exists(Kind::Credentials, &format!("{service}/{name}")) {
        bail!(
            "{service} credentials \"{name}\" do not exist (add them with: infinit credentials add --{service} --name {name})"
        );
    }
    let _: Credentials = ctx.store.load(Kind::Credentials, &format!("{service}/{name}"))?;
    Ok(())
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    ctx.list_each(
        Kind::Silo,
        None,
        |name| load(ctx, name),
        |name, silo| {
            let capacity = silo.capacity.map(units::format_capacity).unwrap_or_else(|| "unlimited".into());
            let place = match &silo.backend {
                SiloBackend::Filesystem { path } => format!("filesystem at {}", path.display()),
                SiloBackend::Memory => "memory".into(),
                SiloBackend::S3 { endpoint, bucket, folder, .. } => format!("s3 {endpoint}/{bucket}/{folder}"),
                SiloBackend::Gcs { bucket, folder, .. } => format!("gcs {bucket}/{folder}"),
            };
            let description = silo.description.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
            let mut value = json!({"name": name, "type": silo.backend.type_name()});
            if let Some(c) = silo.capacity {
                value["capacity"] = json!(c);
            }
            if let Some(d) = &silo.description {
                value["description"] = json!(d);
            }
            ctx.out.item(&format!("{name}{description}: {place}, {capacity}"), &value);
        },
    )
}

fn import(ctx: &Context, args: InputArg) -> anyhow::Result<()> {
    let silo: Silo = parse_input(Kind::Silo, &ctx.read_input(args.input.as_deref())?)?;
    names::check("silo", &silo.name)?;
    match &silo.backend {
        SiloBackend::Filesystem { path } if !path.is_absolute() => {
            bail!("silo \"{}\": the folder \"{}\" must be an absolute path", silo.name, path.display())
        }
        SiloBackend::S3 { credentials, .. } | SiloBackend::Gcs { credentials, .. } => {
            names::check("credentials", credentials)?
        }
        _ => {}
    }
    ctx.import(Kind::Silo, &silo.name, &silo.name, &silo, args.force)?;
    Ok(())
}

/// Linked networks (of any local user) that store blocks in silo `name`.
pub fn users_of(ctx: &Context, name: &str) -> anyhow::Result<Vec<LinkedNetwork>> {
    let mut out = Vec::new();
    for link in ctx.store.list(Kind::LinkedNetwork, None)? {
        let linked: LinkedNetwork = ctx.store.load(Kind::LinkedNetwork, &link)?;
        if linked.silos.iter().any(|s| s == name) {
            out.push(linked);
        }
    }
    Ok(out)
}

fn delete(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    let name = required(&args.name, "silo delete")?;
    let silo = load(ctx, &name)?;
    if let Some(linked) = users_of(ctx, &name)?.first() {
        bail!(
            "silo \"{name}\" stores blocks for network \"{}\" linked by user \"{}\": unlink it first (infinit network unlink --as {} {})",
            linked.network,
            linked.user,
            linked.user,
            linked.network
        );
    }
    if args.clear_content {
        let SiloBackend::Filesystem { path } = &silo.backend else {
            bail!("--clear-content only applies to filesystem silos; \"{name}\" is {}", silo.backend.type_name());
        };
        // Never erase a folder that does not carry this silo's marker: an
        // imported or edited descriptor may name any folder.
        filesystem::check_erasable(&name, path, silo.id)?;
        match std::fs::remove_dir_all(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot erase \"{}\"", path.display()));
            }
        }
        ctx.out.report(
            "cleared",
            "silo",
            &name,
            &format!("Erased the content of silo \"{name}\" in \"{}\".", path.display()),
        );
    }
    ctx.store.delete(Kind::Silo, &name)?;
    ctx.out.report("deleted", "silo", &name, &format!("Locally deleted silo \"{name}\"."));
    Ok(())
}
