//! `infinit device`: move a user's identity (its private key) to another
//! device through the hub, under a passphrase, for a few minutes at most.

use clap::{Args, Subcommand};

use super::context::Context;
use super::hub;
use crate::descriptors::units;
use crate::hub::api::MAX_PAIRING_LIFESPAN;

/// Modes of `infinit device`.
#[derive(Debug, Subcommand)]
pub enum DeviceMode {
    /// Leave your user's identity on the hub, under a passphrase, for another device to receive
    Transmit(TransmitArgs),
    /// Receive a user's identity transmitted from another device
    Receive(ReceiveArgs),
}

/// Options of `device transmit`.
#[derive(Debug, Args)]
pub struct TransmitArgs {
    /// Transmit the acting user (its private key, protected by a passphrase read from
    /// INFINIT_PAIRING_PASSPHRASE, a line of standard input or a prompt)
    #[arg(short, long, required = true)]
    user: bool,
    /// How long the hub keeps it for the other device (at most 30min)
    #[arg(long, default_value = "5min", value_name = "DURATION", value_parser = units::parse_duration)]
    expires_in: std::time::Duration,
}

/// Options of `device receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Receive a user (with the passphrase it was transmitted under)
    #[arg(short, long, required = true)]
    user: bool,
    /// The user to receive [default: the acting user]
    #[arg(short, long, value_name = "USER")]
    name: Option<String>,
}

/// Run a `device` mode.
pub fn run(ctx: &Context, mode: DeviceMode) -> anyhow::Result<()> {
    match mode {
        DeviceMode::Transmit(args) => {
            let seconds = args.expires_in.as_secs();
            if !(1..=MAX_PAIRING_LIFESPAN).contains(&seconds) {
                return Err(super::usage(
                    "device transmit",
                    format!(
                        "--expires-in must be between 1s and {}",
                        units::format_duration(std::time::Duration::from_secs(MAX_PAIRING_LIFESPAN))
                    ),
                ));
            }
            debug_assert!(args.user);
            hub::transmit(ctx, seconds)
        }
        DeviceMode::Receive(args) => {
            debug_assert!(args.user);
            hub::receive(ctx, args.name.as_deref().unwrap_or(&ctx.as_user))
        }
    }
}
