//! What `network run`, `volume run` and `volume mount` need to join a
//! network of several nodes: the options that place the node on the
//! network (`--listen`, `--port`, `--peer`, ...), the check of every
//! peer's credentials against the network descriptor, and the resulting
//! [`NetworkSpec`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::context::Context;
use super::network;
use crate::crypto::{KeyPair, PublicKey};
use crate::descriptors::network::{NodeIdentity, Overlay};
use crate::descriptors::{LinkedNetwork, Network, Passport};
use crate::runtime::network::NetworkSpec;
use crate::runtime::overlay::{Credentials, Gatekeeper, Membership, OverlayKind};

/// Options that put a node on a network of several nodes. Without any of
/// them (and no peers in the network descriptor), the node serves the
/// network alone from its own silo.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Network options")]
pub struct NetArgs {
    /// Address to listen on for other nodes, e.g. 0.0.0.0 or 127.0.0.2:4000 [default: 0.0.0.0]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Port to listen on [default: any free port]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Write the port listened on to this file once bound
    #[arg(long, value_name = "FILE")]
    pub port_file: Option<PathBuf>,
    /// Host name or address other nodes reach this one at (repeat for several)
    #[arg(long = "advertise-host", value_name = "HOST")]
    pub advertise_host: Vec<String>,
    /// A node to join through, HOST:PORT (repeat for several; a name is tried at each address it
    /// resolves to); a file of such lines also works
    #[arg(long = "peer", value_name = "HOST:PORT|FILE")]
    pub peers: Vec<String>,
    /// File of known peers, read at start and kept up to date while running
    #[arg(long, value_name = "FILE")]
    pub peers_file: Option<PathBuf>,
    /// Publish where this node is reached on the hub (--hub or INFINIT_HUB), and keep it
    /// published while the node runs, so that other nodes find it without --peer
    #[arg(long, visible_alias = "push-endpoints")]
    pub publish: bool,
    /// Find peers through the endpoints published on the hub [default: on when a hub is
    /// configured and the node joins a network of several nodes]
    #[arg(long, conflicts_with = "no_fetch_endpoints")]
    pub fetch_endpoints: bool,
    /// Do not look for peers on the hub
    #[arg(long)]
    pub no_fetch_endpoints: bool,
}

impl NetArgs {
    /// Whether the node joins a network of several nodes.
    pub fn networked(&self, network: &Network) -> bool {
        network.overlay != Overlay::Single
            && (self.listen.is_some()
                || self.port.is_some()
                || !self.peers.is_empty()
                || self.peers_file.is_some()
                || self.publish
                || self.fetch_endpoints
                || !network.peers.is_empty())
    }

    /// The address to listen on.
    fn listen(&self) -> anyhow::Result<SocketAddr> {
        let port = self.port.unwrap_or(0);
        let Some(listen) = &self.listen else {
            return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
        };
        if let Ok(addr) = listen.parse::<SocketAddr>() {
            if self.port.is_some() && addr.port() != port {
                anyhow::bail!("--listen {listen} and --port {port} name two ports: give one");
            }
            return Ok(addr);
        }
        let ip: IpAddr = listen
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| anyhow::anyhow!("--listen {listen}: not an address (e.g. 0.0.0.0, ::, 127.0.0.2:4000)"))?;
        Ok(SocketAddr::new(ip, port))
    }

    /// The peers to dial: `--peer` values, with files expanded to their lines.
    fn peers(&self, network: &Network) -> anyhow::Result<Vec<String>> {
        let mut all = network.peers.clone();
        for peer in &self.peers {
            let path = std::path::Path::new(peer);
            if path.is_file() {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("--peer {peer}: cannot read the file: {e}"))?;
                all.extend(
                    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from),
                );
            } else if peer.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
                all.push(peer.clone());
            } else {
                anyhow::bail!("--peer {peer}: neither HOST:PORT nor a readable file of such lines");
            }
        }
        Ok(all)
    }
}

/// Checks a peer's credentials against the network descriptor: the
/// passport is signed by the owner (or a delegate chain up to it) for the
/// user's key, and the user certified the node key.
#[derive(Debug)]
pub struct PassportGate {
    network: Network,
}

impl PassportGate {
    /// The gate of `network`.
    pub fn new(network: Network) -> PassportGate {
        PassportGate { network }
    }
}

impl Gatekeeper for PassportGate {
    fn network(&self) -> &str {
        &self.network.name
    }

    fn check(&self, node: &PublicKey, credentials: &Credentials) -> Result<Membership, String> {
        let passport: Passport =
            serde_json::from_slice(&credentials.passport).map_err(|e| format!("unreadable passport: {e}"))?;
        if passport.network != self.network.name {
            return Err(format!("its passport is for network \"{}\", not \"{}\"", passport.network, self.network.name));
        }
        passport.verify(&self.network).map_err(|e| format!("its passport does not verify: {e}"))?;
        if passport.user != credentials.user {
            return Err(format!("its passport was issued to another key than user \"{}\"'s", passport.user_name));
        }
        if !NodeIdentity::verify_certificate(&self.network.name, node, &credentials.user, &credentials.certificate) {
            return Err(format!("user \"{}\" did not certify its node key", passport.user_name));
        }
        Ok(Membership {
            user: passport.user,
            user_name: passport.user_name,
            write: passport.allow_write,
            storage: passport.allow_storage,
        })
    }
}

/// The node keys of `link`.
pub fn node_keys(link: &LinkedNetwork) -> KeyPair {
    KeyPair::from_private(&link.node.private_key)
}

/// How this device's node joins `network`.
pub fn network_spec(
    ctx: &Context,
    args: &NetArgs,
    network: &Network,
    link: &LinkedNetwork,
) -> anyhow::Result<NetworkSpec> {
    let passport = serde_json::to_vec(&link.passport)?;
    let state = network::state_dir(ctx, &link.user, &network.name);
    Ok(NetworkSpec {
        keys: node_keys(link),
        credentials: Credentials { user: link.passport.user, certificate: link.node.certificate, passport },
        gatekeeper: Arc::new(PassportGate::new(network.clone())),
        overlay: if network.overlay == Overlay::Static { OverlayKind::Static } else { OverlayKind::Gossip },
        replication: network.replication_factor as usize,
        listen: args.listen()?,
        advertise: args.advertise_host.clone(),
        peers: args.peers(network)?,
        peers_file: args.peers_file.clone(),
        port_file: args.port_file.clone(),
        acceptors: state.join("acceptors.redb"),
    })
}

/// How often a node asks the hub for peers while it knows no live one, and
/// once it does.
const FETCH_LONELY: std::time::Duration = std::time::Duration::from_secs(3);
const FETCH_SETTLED: std::time::Duration = std::time::Duration::from_secs(60);
/// How often a node publishes its endpoints again (the hub forgets them an
/// hour after the last publication).
const REPUBLISH: std::time::Duration = std::time::Duration::from_secs(300);

/// The local address this machine's traffic to the world leaves from (no
/// packet is sent: connecting a UDP socket only picks a route).
fn outbound_ip(v6: bool) -> Option<IpAddr> {
    let (bind, probe) = if v6 { ("[::]:0", "[2001:db8::1]:9") } else { ("0.0.0.0:0", "192.0.2.1:9") };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(probe).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// A node's dealings with the hub while it runs: finding peers through
/// the endpoints others published, and publishing its own.
pub struct HubPeers {
    task: tokio::task::JoinHandle<()>,
    withdraw: Option<(crate::hub::Hub, String, KeyPair, String, [u8; 32])>,
}

impl HubPeers {
    /// Start what `args` asks of the hub for the running `node` of
    /// `network`, as `user` (whose `keys` sign the publications; `None` if
    /// not publishing). `None` when there is nothing to do: no hub
    /// configured (an error if `--publish` or `--fetch-endpoints` asked for
    /// one), or neither publishing nor fetching.
    pub fn start(
        ctx: &Context,
        args: &NetArgs,
        network: &str,
        user: &str,
        keys: Option<KeyPair>,
        node: &crate::runtime::network::NetworkNode,
    ) -> anyhow::Result<Option<HubPeers>> {
        let wanted = args.publish || args.fetch_endpoints;
        let hub = match crate::hub::Hub::configured(ctx.hub.as_deref()) {
            Some(hub) => hub?,
            None if wanted => {
                anyhow::bail!("--publish and --fetch-endpoints need a hub: give --hub URL or set INFINIT_HUB")
            }
            None => return Ok(None),
        };
        let fetch = !args.no_fetch_endpoints;
        let publish = match (args.publish, keys) {
            (true, Some(keys)) => Some(keys),
            (true, None) => anyhow::bail!("--publish needs the user's private key"),
            (false, _) => None,
        };
        if !fetch && publish.is_none() {
            return Ok(None);
        }
        let overlay = node.overlay.clone();
        let me = overlay.me().0;
        // A node listening on every interface, with no --advertise-host,
        // publishes the address its traffic leaves from.
        let fallback = node.local_addr().and_then(|a| {
            let ip = if a.ip().is_unspecified() { outbound_ip(a.is_ipv6())? } else { a.ip() };
            Some(SocketAddr::new(ip, a.port()))
        });
        let (network, user) = (network.to_string(), user.to_string());
        let withdraw = publish.clone().map(|keys| (hub.clone(), user.clone(), keys, network.clone(), me));
        let task = tokio::spawn(async move {
            let mut published: Option<std::time::Instant> = None;
            let mut warned = false;
            loop {
                if fetch {
                    match crate::hub::fetch_endpoints(&hub, &network).await {
                        Ok(nodes) => {
                            let targets = nodes.into_iter().filter(|n| n.node_id != me).flat_map(|n| n.endpoints);
                            overlay.found_peers(targets.collect()).await;
                        }
                        Err(e) if !warned => {
                            warned = true;
                            tracing::warn!("cannot find peers through the hub: {e}");
                        }
                        Err(e) => tracing::debug!("cannot find peers through the hub: {e}"),
                    }
                }
                if let Some(keys) = &publish
                    && published.is_none_or(|at| at.elapsed() >= REPUBLISH)
                {
                    let mut endpoints: Vec<String> = overlay.record().endpoints.iter().map(|a| a.to_string()).collect();
                    if endpoints.is_empty() {
                        endpoints.extend(fallback.map(|a| a.to_string()));
                    }
                    if endpoints.is_empty() {
                        tracing::warn!(
                            "this node has no address to publish: give --listen with an address or --advertise-host"
                        );
                    } else {
                        match crate::hub::publish_endpoints(&hub, &user, keys, &network, &me, &endpoints).await {
                            Ok(()) => tracing::info!("published the endpoints {} on the hub", endpoints.join(", ")),
                            Err(e) => tracing::warn!("cannot publish this node's endpoints on the hub: {e}"),
                        }
                    }
                    published = Some(std::time::Instant::now());
                }
                let lonely = !overlay.has_live_peer();
                tokio::time::sleep(if lonely { FETCH_LONELY } else { FETCH_SETTLED }).await;
            }
        });
        Ok(Some(HubPeers { task, withdraw }))
    }

    /// Stop, withdrawing the published endpoints (best effort, briefly).
    pub async fn stop(self) {
        self.task.abort();
        if let Some((hub, user, keys, network, me)) = &self.withdraw {
            let withdraw = crate::hub::unpublish_endpoints(hub, user, keys, network, me);
            match tokio::time::timeout(std::time::Duration::from_secs(3), withdraw).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("cannot withdraw this node's endpoints from the hub: {e}"),
                Err(_) => tracing::warn!("the hub did not answer the withdrawal of this node's endpoints in time"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::network::NetworkSettings;
    use crate::descriptors::passport::Rights;

    const ALL: Rights = Rights { allow_write: true, allow_storage: true, allow_create_passport: false };

    fn network(name: &str, owner: &KeyPair) -> Network {
        let settings = NetworkSettings {
            description: None,
            replication_factor: 3,
            overlay: Overlay::Gossip,
            eviction_delay: "10min".into(),
            peers: vec![],
        };
        Network::new(name, settings, owner).unwrap()
    }

    /// Bob's node on `net`: its key and credentials.
    fn bob_node(net: &Network, passport: &Passport, bob: &KeyPair) -> (PublicKey, Credentials) {
        let node = NodeIdentity::generate(&net.name, bob).unwrap();
        let credentials = Credentials {
            user: bob.public(),
            certificate: node.certificate,
            passport: serde_json::to_vec(passport).unwrap(),
        };
        (node.public_key, credentials)
    }

    #[test]
    fn a_member_with_a_passport_of_the_owner_is_admitted_with_its_rights() {
        let (alice, bob) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        let net = network("alice/net", &alice);
        let read_only = Rights { allow_write: false, ..ALL };
        let passport = Passport::sign(&net, "bob", bob.public(), read_only, &alice, None).unwrap();
        let (node, credentials) = bob_node(&net, &passport, &bob);
        let member = PassportGate::new(net).check(&node, &credentials).unwrap();
        assert_eq!((member.user_name.as_str(), member.write, member.storage), ("bob", false, true));
    }

    #[test]
    fn no_passport_another_networks_a_forged_one_or_an_uncertified_node_is_refused() {
        let (alice, bob, mallory) =
            (KeyPair::generate().unwrap(), KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        let net = network("alice/net", &alice);
        let gate = PassportGate::new(net.clone());
        let good = Passport::sign(&net, "bob", bob.public(), ALL, &alice, None).unwrap();
        let (node, credentials) = bob_node(&net, &good, &bob);

        let none = Credentials { passport: b"not a passport".to_vec(), ..credentials.clone() };
        assert!(gate.check(&node, &none).unwrap_err().contains("unreadable passport"));

        let other = network("alice/other", &alice);
        let elsewhere = Passport::sign(&other, "bob", bob.public(), ALL, &alice, None).unwrap();
        let (_, with_other) = bob_node(&net, &elsewhere, &bob);
        assert!(gate.check(&node, &with_other).unwrap_err().contains("alice/other"));

        // Mallory signs a passport for bob as if she owned the network.
        let fake = Network { owner: mallory.public(), ..net.clone() };
        let forged = Passport::sign(&fake, "bob", bob.public(), ALL, &mallory, None).unwrap();
        let (_, with_forged) = bob_node(&net, &forged, &bob);
        assert!(gate.check(&node, &with_forged).unwrap_err().contains("does not verify"));

        // Bob's passport, presented for a node key mallory made.
        let stolen = Credentials { certificate: mallory.sign(b"node"), ..credentials.clone() };
        assert!(gate.check(&node, &stolen).unwrap_err().contains("did not certify"));
        let (mallorys_node, _) = bob_node(&net, &good, &mallory);
        assert!(gate.check(&mallorys_node, &credentials).unwrap_err().contains("did not certify"));

        gate.check(&node, &credentials).unwrap();
    }

    #[test]
    fn the_outbound_address_is_one_of_this_machines() {
        // None where there is no route at all; else an address this machine owns.
        for v6 in [false, true] {
            if let Some(ip) = outbound_ip(v6) {
                assert!(!ip.is_unspecified() && ip.is_ipv6() == v6, "{ip}");
                assert!(std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok(), "{ip} is not a local address");
            }
        }
    }
}
