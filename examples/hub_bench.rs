//! Load generator for `infinit-hub` (run by `bench/hub.sh`): N concurrent
//! clients for a few seconds each of
//!
//! - `fetch`: `GET /networks/bench/net` (a public read, parsed);
//! - `push`: a signed re-push of the same network (verified, then an
//!   unchanged answer; the signature is still remembered durably);
//! - `publish`: signed endpoint publications, one node per client (a real
//!   durable write each time),
//!
//! and prints requests per second and latency percentiles as a table.
//!
//! `cargo run --release --example hub_bench -- --hub http://127.0.0.1:PORT [--clients 16] [--seconds 10]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use infinit::crypto::KeyPair;
use infinit::descriptors::network::{NetworkSettings, Overlay};
use infinit::descriptors::{Network, User};
use infinit::hub::Hub;
use infinit::hub::client::Signer;

struct Options {
    hub: String,
    clients: usize,
    seconds: u64,
}

fn options() -> Result<Options, String> {
    let mut options = Options { hub: String::new(), clients: 16, seconds: 10 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--hub" => options.hub = value()?,
            "--clients" => options.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => options.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.hub.is_empty() {
        return Err("--hub URL is required".into());
    }
    Ok(options)
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Phase {
    fn row(&self) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let pct = |p: f64| {
            if sorted.is_empty() {
                return 0.0;
            }
            let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
            sorted[i].as_secs_f64() * 1000.0
        };
        format!(
            "{:<8} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            self.name,
            sorted.len(),
            sorted.len() as f64 / self.elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99),
            sorted.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            self.errors
        )
    }
}

/// Run `clients` copies of `request` for `seconds`, each in a loop.
async fn phase<F, Fut>(name: &'static str, clients: usize, seconds: u64, request: F) -> Phase
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let began = Instant::now();
                if request(client).await {
                    latencies.push(began.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut result = Phase { name, latencies: Vec::new(), errors: 0, elapsed: Duration::ZERO };
    for task in tasks {
        if let Ok((latencies, errors)) = task.await {
            result.latencies.extend(latencies);
            result.errors += errors;
        }
    }
    result.elapsed = start.elapsed();
    result
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hub_bench: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(options).await {
        eprintln!("hub_bench: {e}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<(), String> {
    let hub = Hub::new(&options.hub).map_err(|e| e.to_string())?;
    let keys = Arc::new(KeyPair::generate().map_err(|e| e.to_string())?);
    let user = format!("bench{}", std::process::id());
    let descriptor = User::new(&user, None, &keys, None).map_err(|e| e.to_string())?;
    hub.push_user(&descriptor, None, &keys).await.map_err(|e| e.to_string())?;
    let settings = NetworkSettings {
        description: Some("hub benchmark".into()),
        replication_factor: 3,
        overlay: Overlay::Gossip,
        eviction_delay: "10min".into(),
        peers: vec![],
    };
    let network = Arc::new(Network::new(&format!("{user}/net"), settings, &keys).map_err(|e| e.to_string())?);
    hub.push_network(&network, Signer { user: &user, keys: &keys }).await.map_err(|e| e.to_string())?;
    let user = Arc::new(user);

    let mut phases = Vec::new();
    let (h, n) = (hub.clone(), network.name.clone());
    phases.push(
        phase("fetch", options.clients, options.seconds, move |_| {
            let (h, n) = (h.clone(), n.clone());
            async move { h.fetch_network(&n).await.is_ok() }
        })
        .await,
    );
    let (h, k, u, net) = (hub.clone(), keys.clone(), user.clone(), network.clone());
    phases.push(
        phase("push", options.clients, options.seconds, move |_| {
            let (h, k, u, net) = (h.clone(), k.clone(), u.clone(), net.clone());
            async move { h.push_network(&net, Signer { user: &u, keys: &k }).await.is_ok() }
        })
        .await,
    );
    let (h, k, u, n) = (hub.clone(), keys.clone(), user.clone(), network.name.clone());
    phases.push(
        phase("publish", options.clients, options.seconds, move |client| {
            let (h, k, u, n) = (h.clone(), k.clone(), u.clone(), n.clone());
            async move {
                let node = [client as u8; 32];
                let endpoints = vec![format!("127.0.0.{}:4000", client % 250 + 1)];
                infinit::hub::publish_endpoints(&h, &u, &k, &n, &node, &endpoints).await.is_ok()
            }
        })
        .await,
    );
    println!("{} clients, {} s per operation", options.clients, options.seconds);
    println!(
        "{:<8} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "op", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for p in &phases {
        println!("{}", p.row());
    }
    Ok(())
}
