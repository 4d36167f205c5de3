//! `infinit-hub`: the registry server where people publish users, networks,
//! passports and volumes and nodes publish their endpoints (see `hub::server`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// The infinit hub: a registry of users, networks, passports, volumes and node endpoints.
#[derive(Debug, Parser)]
#[command(name = "infinit-hub", version)]
struct Args {
    /// Address to listen on (port 0: any free port; see --port-file)
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// Folder of the hub's database (hub.redb), created if missing
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Write the port listened on to this file once listening
    #[arg(long, value_name = "FILE")]
    port_file: Option<PathBuf>,
    /// A user who may delete any object and list users (repeat for several)
    #[arg(long = "admin-user", value_name = "NAME")]
    admins: Vec<String>,
}

fn main() {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("INFINIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).try_init();
    for admin in &args.admins {
        if let Err(e) = infinit::descriptors::names::check("user", admin) {
            eprintln!("infinit-hub: error: --admin-user: {e}");
            std::process::exit(2);
        }
    }
    let options = infinit::hub::server::Options {
        listen: args.listen,
        data: args.data,
        port_file: args.port_file,
        admins: args.admins,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("infinit-hub: error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        let mut running = infinit::hub::server::start(options).await?;
        tracing::info!("infinit-hub listening on http://{}", running.addr);
        tokio::select! {
            served = &mut running.task => {
                return served.unwrap_or_else(|e| Err(infinit::hub::server::ServerError::Serve(e.to_string())));
            }
            _ = stop_signal() => {}
        }
        running.shutdown();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), &mut running.task).await;
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("infinit-hub: error: {e}");
        std::process::exit(1);
    }
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
