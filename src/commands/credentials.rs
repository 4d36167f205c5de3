//! `infinit credentials`: add, list and delete the secrets cloud silos use.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;

use super::context::Context;
use super::usage;
use crate::descriptors::silo::SiloBackend;
use crate::descriptors::{Credentials, Kind, Silo, names};

/// Modes of `infinit credentials`.
#[derive(Debug, Subcommand)]
pub enum CredentialsMode {
    /// Add credentials (the secret comes from the environment, standard input or a prompt)
    Add(AddArgs),
    /// List credentials (secrets are never shown)
    #[command(long_about = format!("List credentials (secrets are never shown).\n\n{}", super::LIST_DAMAGED_NOTE))]
    List(ServiceArgs),
    /// Delete credentials
    Delete(DeleteArgs),
}

/// Which service.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("service").args(["aws", "gcs"])))]
pub struct ServiceArgs {
    /// Amazon Web Services or any S3-compatible service
    #[arg(long)]
    aws: bool,
    /// Google Cloud Storage
    #[arg(long)]
    gcs: bool,
}

/// Options of `credentials add`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("service").args(["aws", "gcs"]).required(true)))]
pub struct AddArgs {
    /// Amazon Web Services or any S3-compatible service (secret key from $AWS_SECRET_ACCESS_KEY, stdin or a prompt)
    #[arg(long, requires = "access_key_id")]
    aws: bool,
    /// Google Cloud Storage (service account key JSON from --key-file or stdin)
    #[arg(long)]
    gcs: bool,
    /// Local name of these credentials
    #[arg(short, long)]
    name: String,
    /// AWS access key id
    #[arg(long, value_name = "ID")]
    access_key_id: Option<String>,
    /// GCS service account key file (JSON)
    #[arg(long, value_name = "FILE", conflicts_with = "aws")]
    key_file: Option<PathBuf>,
}

/// Options of `credentials delete`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("service").args(["aws", "gcs"]).required(true)))]
pub struct DeleteArgs {
    /// Amazon Web Services credentials
    #[arg(long)]
    aws: bool,
    /// Google Cloud Storage credentials
    #[arg(long)]
    gcs: bool,
    /// Name of the credentials
    #[arg(short, long)]
    name: String,
}

/// Run a `credentials` mode.
pub fn run(ctx: &Context, mode: CredentialsMode) -> anyhow::Result<()> {
    match mode {
        CredentialsMode::Add(args) => add(ctx, args),
        CredentialsMode::List(args) => list(ctx, args),
        CredentialsMode::Delete(args) => delete(ctx, args),
    }
}

fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
    names::check("credentials", &args.name)?;
    let credentials = if args.aws {
        let id = args.access_key_id.ok_or_else(|| usage("credentials add", "--aws needs --access-key-id ID"))?;
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("invalid access key id \"{id}\": expected letters and digits");
        }
        let secret = ctx.secret("AWS_SECRET_ACCESS_KEY", "AWS secret access key")?;
        Credentials::Aws { name: args.name.clone(), access_key_id: id, secret_access_key: secret.trim().to_string() }
    } else {
        let key = match &args.key_file {
            Some(path) => {
                std::fs::read_to_string(path).with_context(|| format!("cannot read \"{}\"", path.display()))?
            }
            None => String::from_utf8(ctx.read_input(None)?).context("the service account key is not UTF-8")?,
        };
        serde_json::from_str::<serde_json::Value>(&key).context("the service account key is not JSON")?;
        Credentials::Gcs { name: args.name.clone(), service_account_key: key }
    };
    let path = format!("{}/{}", credentials.service(), args.name);
    if ctx.store.exists(Kind::Credentials, &path) {
        bail!("{} credentials \"{}\" already exist (delete them first)", credentials.service(), args.name);
    }
    ctx.store.create(Kind::Credentials, &path, &credentials)?;
    ctx.out.report(
        "saved",
        "credentials",
        &path,
        &format!("Locally saved {} credentials \"{}\".", credentials.service(), args.name),
    );
    Ok(())
}

fn list(ctx: &Context, args: ServiceArgs) -> anyhow::Result<()> {
    let all = !args.aws && !args.gcs;
    let load = |path: &str| Ok(ctx.store.load::<Credentials>(Kind::Credentials, path)?);
    ctx.list_each(Kind::Credentials, None, load, |path, credentials| {
        let wanted =
            all || (args.aws && credentials.service() == "aws") || (args.gcs && credentials.service() == "gcs");
        if !wanted {
            return;
        }
        let mut value = json!({"service": credentials.service(), "name": credentials.name()});
        if let Credentials::Aws { access_key_id, .. } = &credentials {
            value["access_key_id"] = json!(access_key_id);
        }
        ctx.out.item(&format!("{path}: {}", credentials.summary()), &value);
    })
}

fn delete(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    names::check("credentials", &args.name)?;
    let service = if args.aws { "aws" } else { "gcs" };
    let path = format!("{service}/{}", args.name);
    if !ctx.store.exists(Kind::Credentials, &path) {
        bail!("{service} credentials \"{}\" do not exist", args.name);
    }
    for silo in ctx.store.list(Kind::Silo, None)? {
        let silo: Silo = ctx.store.load(Kind::Silo, &silo)?;
        let uses = match &silo.backend {
            SiloBackend::S3 { credentials, .. } => service == "aws" && *credentials == args.name,
            SiloBackend::Gcs { credentials, .. } => service == "gcs" && *credentials == args.name,
            _ => false,
        };
        if uses {
            bail!("{service} credentials \"{}\" are used by silo \"{}\": delete the silo first", args.name, silo.name);
        }
    }
    ctx.store.delete(Kind::Credentials, &path)?;
    ctx.out.report(
        "deleted",
        "credentials",
        &path,
        &format!("Locally deleted {service} credentials \"{}\".", args.name),
    );
    Ok(())
}
