//! `infinit journal`: what the write-back journal of `volume run --async`
//! still holds for a network on this device, readable while no node runs.

use std::time::SystemTime;

use clap::{Args, Subcommand};
use serde_json::json;

use super::context::Context;
use super::network;
use crate::descriptors::{Kind, units};
use crate::runtime::journal::AsyncJournal;

/// Modes of `infinit journal`.
#[derive(Debug, Subcommand)]
pub enum JournalMode {
    /// Count the operations waiting in the journal of each linked network (or one)
    Stat(JournalArgs),
    /// List the operations waiting in a network's journal, and those the network refused
    Describe(JournalArgs),
}

/// Which network.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// The network [default: every network linked for the acting user]
    #[arg(short = 'N', long)]
    network: Option<String>,
}

/// Run a `journal` mode.
pub fn run(ctx: &Context, mode: JournalMode) -> anyhow::Result<()> {
    match mode {
        JournalMode::Stat(args) => {
            for net in networks(ctx, &args)? {
                let dir = network::state_dir(ctx, &ctx.as_user, &net).join("async");
                let ops = if dir.exists() { AsyncJournal::describe(&dir)? } else { Vec::new() };
                let rejected = if dir.exists() { AsyncJournal::describe_rejected(&dir)?.len() } else { 0 };
                let bytes: u64 = ops.iter().map(|o| o.size).sum();
                let oldest = ops.iter().map(|o| o.time).min().map(seconds);
                let mut value = json!({
                    "network": net, "pending_operations": ops.len(), "pending_bytes": bytes, "rejected": rejected,
                });
                if let Some(t) = oldest {
                    value["oldest"] = json!(t);
                }
                let human = format!(
                    "{net}: {} operations ({}) pending, {rejected} refused",
                    ops.len(),
                    units::format_capacity(bytes)
                );
                ctx.out.item(&human, &value);
            }
            Ok(())
        }
        JournalMode::Describe(args) => {
            for net in networks(ctx, &args)? {
                let dir = network::state_dir(ctx, &ctx.as_user, &net).join("async");
                if !dir.exists() {
                    continue;
                }
                for op in AsyncJournal::describe(&dir)? {
                    let value = json!({
                        "network": net, "sequence": op.sequence, "operation": op.kind.to_string(),
                        "address": op.address.to_string(), "size": op.size, "time": seconds(op.time), "state": "pending",
                    });
                    let human = format!("{net} #{}: {} {} ({} B)", op.sequence, op.kind, op.address, op.size);
                    ctx.out.item(&human, &value);
                }
                for rejected in AsyncJournal::describe_rejected(&dir)? {
                    let op = &rejected.operation;
                    let value = json!({
                        "network": net, "sequence": op.sequence, "operation": op.kind.to_string(),
                        "address": op.address.to_string(), "size": op.size, "time": seconds(op.time),
                        "state": "refused", "why": rejected.why,
                    });
                    let human = format!("{net} #{}: {} {} refused: {}", op.sequence, op.kind, op.address, rejected.why);
                    ctx.out.item(&human, &value);
                }
            }
            Ok(())
        }
    }
}

fn seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The qualified networks to look at.
fn networks(ctx: &Context, args: &JournalArgs) -> anyhow::Result<Vec<String>> {
    match &args.network {
        Some(n) => {
            let net = ctx.qualify("network", n)?;
            if network::linked(ctx, &ctx.as_user, &net)?.is_none() {
                anyhow::bail!("network \"{net}\" is not linked to this device for user \"{}\"", ctx.as_user);
            }
            Ok(vec![net])
        }
        None => Ok(ctx
            .store
            .list(Kind::LinkedNetwork, Some(&ctx.as_user))?
            .into_iter()
            .filter_map(|l| l.split_once('/').map(|(_, n)| n.to_string()))
            .collect()),
    }
}
