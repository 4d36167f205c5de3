//! The transport between real endpoints on loopback: the TLS raw-key
//! handshake, the hello check, framed requests both ways, refusals,
//! deadlines and datagrams.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Admits peers whose hello is `welcome`; echoes requests, reversed.
struct Echo {
    hello: Vec<u8>,
    datagrams: AtomicUsize,
}

impl Service for Echo {
    fn hello(&self) -> Vec<u8> {
        self.hello.clone()
    }

    fn admit(&self, tls_key: &[u8; 32], _remote: SocketAddr, hello: &[u8]) -> Result<PeerId, String> {
        if hello.starts_with(b"welcome") { Ok(PeerId(*tls_key)) } else { Err("no passport".into()) }
    }

    fn request(&self, _from: PeerId, mut body: Vec<u8>) -> Reply {
        Box::pin(async move {
            if body == b"slow" {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            body.reverse();
            body
        })
    }

    fn datagram(&self, _from: PeerId, _body: &[u8]) {
        self.datagrams.fetch_add(1, Ordering::SeqCst);
    }
}

fn node(hello: &[u8]) -> (Arc<Rpc>, Arc<Echo>, KeyPair) {
    let keys = KeyPair::generate().unwrap();
    let echo = Arc::new(Echo { hello: hello.to_vec(), datagrams: AtomicUsize::new(0) });
    let rpc = Rpc::bind("127.0.0.1:0".parse().unwrap(), &keys, echo.clone()).unwrap();
    (rpc, echo, keys)
}

#[tokio::test]
async fn admitted_peers_call_each_other_both_ways_over_one_connection() {
    let (a, a_echo, a_keys) = node(b"welcome a");
    let (b, _, b_keys) = node(b"welcome b");
    let b_id = a.connect(b.local_addr().unwrap()).await.unwrap();
    assert_eq!(b_id, PeerId(b_keys.public().ed25519), "the id is the key proven in TLS");
    assert_eq!(a.call(b_id, b"abc", Duration::from_secs(5)).await.unwrap(), b"cba");
    // Several megabytes arrive in many pieces, each in its place.
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut reversed = big.clone();
    reversed.reverse();
    assert!(a.call(b_id, &big, Duration::from_secs(10)).await.unwrap() == reversed, "the body came back changed");
    // b answers a over the connection a opened, without dialing.
    let a_id = PeerId(a_keys.public().ed25519);
    assert_eq!(b.call(a_id, b"xy", Duration::from_secs(5)).await.unwrap(), b"yx");
    assert!(b.datagram(a_id, b"ping"));
    for _ in 0..100 {
        if a_echo.datagrams.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(a_echo.datagrams.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_peer_without_a_good_hello_is_refused_with_the_reason() {
    let (a, _, _) = node(b"welcome a");
    let (mallory, _, _) = node(b"forged");
    let refused = mallory.connect(a.local_addr().unwrap()).await.unwrap_err();
    assert!(matches!(&refused, RpcError::Refused { why, .. } if why.contains("no passport")), "{refused}");
    // And the other way round: a refuses mallory's answer.
    let refused = a.connect(mallory.local_addr().unwrap()).await.unwrap_err();
    assert!(matches!(refused, RpcError::Refused { .. }), "{refused}");
}

#[tokio::test]
async fn a_call_past_its_deadline_times_out_and_an_unknown_peer_is_unreachable() {
    let (a, _, _) = node(b"welcome a");
    let (b, _, _) = node(b"welcome b");
    let b_id = a.connect(b.local_addr().unwrap()).await.unwrap();
    let late = a.call(b_id, b"slow", Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(late, RpcError::Timeout { .. }), "{late}");
    assert!(late.maybe_delivered());
    let nobody = PeerId([9; 32]);
    assert!(matches!(a.call(nobody, b"x", Duration::from_secs(1)).await, Err(RpcError::Unreachable(_))));
    // A known address that answers as another node is not that node.
    a.set_addresses(nobody, vec![b.local_addr().unwrap()]);
    b.close();
    assert!(a.call(nobody, b"x", Duration::from_secs(2)).await.is_err());
}

#[tokio::test]
async fn a_dead_peer_delays_neither_calls_to_others_nor_its_own_next_calls() {
    let (a, _, _) = node(b"welcome a");
    let (b, _, b_keys) = node(b"welcome b");
    let b_id = PeerId(b_keys.public().ed25519);
    a.set_addresses(b_id, vec![b.local_addr().unwrap()]);
    // A dead node: a socket that takes packets and never answers.
    let hole = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dead = PeerId([7; 32]);
    a.set_addresses(dead, vec![hole.local_addr().unwrap()]);
    let dialing_dead = tokio::spawn({
        let a = a.clone();
        async move { a.call(dead, b"x", Duration::from_secs(30)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // b needs a dial too (no connection yet): it must not queue behind the dead one.
    let started = Instant::now();
    assert_eq!(a.call(b_id, b"ab", Duration::from_secs(4)).await.unwrap(), b"ba");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    let failed = dialing_dead.await.unwrap().unwrap_err();
    assert!(matches!(failed, RpcError::Unreachable(_)), "{failed}");
    // Right after a failed dial, calls fail at once instead of waiting out another handshake.
    let started = Instant::now();
    assert!(matches!(a.call(dead, b"x", Duration::from_secs(30)).await, Err(RpcError::Unreachable(_))));
    assert!(started.elapsed() < Duration::from_millis(500), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_calls_made_together_share_a_stream_and_each_gets_its_own_reply() {
    let (a, _, _) = node(b"welcome a");
    let (b, _, _) = node(b"welcome b");
    let b_id = a.connect(b.local_addr().unwrap()).await.unwrap();
    let big: Vec<u8> = (0..(BATCH_BODY_MAX as u32 + 10)).map(|i| (i % 253) as u8).collect();
    let calls = (0..200u32).map(|i| {
        let body = if i == 17 { big.clone() } else { format!("request {i}").into_bytes() };
        let a = a.clone();
        async move {
            let reply = a.call_batched(b_id, bytes::Bytes::from(body.clone()), Duration::from_secs(10)).await;
            (body, reply)
        }
    });
    for (mut body, reply) in futures_util::future::join_all(calls).await {
        body.reverse();
        assert!(reply.unwrap() == body, "a reply went to another caller");
    }
    let frames = a.batch_frames_sent();
    assert!(frames > 0 && frames < 200, "{frames} batch frames for 200 calls");
    // A request past its deadline times out; the calls after it go through.
    let slow = a.call_batched(b_id, bytes::Bytes::from_static(b"slow"), Duration::from_millis(300)).await;
    assert!(matches!(slow, Err(RpcError::Timeout { .. })), "{slow:?}");
    assert_eq!(
        a.call_batched(b_id, bytes::Bytes::from_static(b"after"), Duration::from_secs(5)).await.unwrap(),
        b"retfa"
    );
}

#[tokio::test]
async fn peers_talk_over_ipv6_too() {
    let Ok(probe) = std::net::UdpSocket::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    };
    drop(probe);
    let bind = |hello: &'static [u8]| {
        let keys = KeyPair::generate().unwrap();
        let echo = Arc::new(Echo { hello: hello.to_vec(), datagrams: AtomicUsize::new(0) });
        Rpc::bind("[::1]:0".parse().unwrap(), &keys, echo).unwrap()
    };
    let (a, b) = (bind(b"welcome a"), bind(b"welcome b"));
    assert!(b.local_addr().unwrap().is_ipv6());
    let b_id = a.connect(b.local_addr().unwrap()).await.unwrap();
    assert_eq!(a.call(b_id, b"v6", Duration::from_secs(5)).await.unwrap(), b"6v");
}

#[test]
fn endpoint_sockets_get_buffers_as_large_as_the_kernel_allows() {
    // The default (about 200 KiB) overflowed under a burst of chunks and
    // every dropped packet slowed QUIC down.
    let max = |what: &str| -> usize {
        std::fs::read_to_string(format!("/proc/sys/net/core/{what}"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    let socket = super::udp_socket("127.0.0.1:0".parse().unwrap()).unwrap();
    let options = socket2::SockRef::from(&socket);
    let (recv, send) = (options.recv_buffer_size().unwrap(), options.send_buffer_size().unwrap());
    assert!(recv >= super::UDP_BUFFER.min(max("rmem_max")), "receive buffer {recv}");
    assert!(send >= super::UDP_BUFFER.min(max("wmem_max")), "send buffer {send}");
}
