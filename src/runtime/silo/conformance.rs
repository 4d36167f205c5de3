//! The behaviour every silo must show, run against each backend by its own
//! tests: insert/update/upsert semantics, reads of several keys at once,
//! erase, list, usage accounting, concurrent writers and the capacity limit.

use std::sync::Arc;

use super::{Address, SetMode, Silo, SiloError};

/// Capacity, in bytes, of the limited silo passed to [`run`].
pub const LIMIT: u64 = 100;

fn key(n: u8) -> Address {
    Address([n; 32])
}

/// Run the whole suite: `unlimited` must be empty and without capacity,
/// `limited` empty with capacity [`LIMIT`].
pub async fn run(unlimited: Arc<dyn Silo>, limited: Arc<dyn Silo>) {
    semantics(unlimited.as_ref()).await;
    concurrent_writers(unlimited.clone()).await;
    capacity(limited.as_ref()).await;
}

async fn semantics(silo: &dyn Silo) {
    assert_eq!(silo.capacity(), None);
    assert!(silo.list().await.unwrap().is_empty());
    assert_eq!(silo.usage(), 0);
    let (a, b, c) = (key(1), key(2), key(3));

    assert!(matches!(silo.get(a).await, Err(SiloError::NotFound { key }) if key == a));
    assert!(matches!(silo.erase(a).await, Err(SiloError::NotFound { .. })));
    assert!(matches!(silo.set(a, b"x".to_vec(), SetMode::Update).await, Err(SiloError::NotFound { .. })));
    assert!(silo.list().await.unwrap().is_empty(), "a failed update created the key");

    silo.set(a, b"first".to_vec(), SetMode::Insert).await.unwrap();
    assert_eq!(silo.get(a).await.unwrap(), b"first");
    assert!(
        matches!(silo.set(a, b"again".to_vec(), SetMode::Insert).await, Err(SiloError::Exists { key }) if key == a)
    );
    assert_eq!(silo.get(a).await.unwrap(), b"first", "a refused insert changed the value");

    silo.set(a, b"second!".to_vec(), SetMode::Update).await.unwrap();
    assert_eq!(silo.get(a).await.unwrap(), b"second!");
    silo.set(b, b"bb".to_vec(), SetMode::Upsert).await.unwrap();
    silo.set(b, b"bbb".to_vec(), SetMode::Upsert).await.unwrap();
    assert_eq!(silo.get(b).await.unwrap(), b"bbb");
    silo.set(c, Vec::new(), SetMode::Insert).await.unwrap();
    assert_eq!(silo.get(c).await.unwrap(), b"");

    assert_eq!(silo.list().await.unwrap(), vec![a, b, c]);
    assert_eq!(silo.list_sized().await.unwrap(), vec![(a, 7), (b, 3), (c, 0)]);
    // Several keys at once: each as `get` answers it, in the order asked, missing ones included.
    let many = silo.get_many(vec![c, key(9), a, b, a]).await;
    assert_eq!(many.len(), 5);
    assert_eq!(many[0].as_ref().unwrap(), b"");
    assert!(matches!(&many[1], Err(SiloError::NotFound { key: missing }) if *missing == key(9)));
    assert_eq!(many[2].as_ref().unwrap(), b"second!");
    assert_eq!(many[3].as_ref().unwrap(), b"bbb");
    assert_eq!(many[4].as_ref().unwrap(), b"second!");
    assert!(silo.get_many(Vec::new()).await.is_empty());
    assert_eq!(silo.usage(), 7 + 3);
    // The first bytes only: a prefix, the whole value when it is shorter.
    assert_eq!(silo.get_head(a, 3).await.unwrap(), b"sec");
    assert_eq!(silo.get_head(a, 7).await.unwrap(), b"second!");
    assert_eq!(silo.get_head(a, 100).await.unwrap(), b"second!");
    assert_eq!(silo.get_head(c, 10).await.unwrap(), b"");
    assert!(matches!(silo.get_head(key(9), 10).await, Err(SiloError::NotFound { key: missing }) if missing == key(9)));

    silo.erase(a).await.unwrap();
    assert!(matches!(silo.get(a).await, Err(SiloError::NotFound { .. })));
    assert!(matches!(silo.erase(a).await, Err(SiloError::NotFound { .. })));
    assert_eq!(silo.list().await.unwrap(), vec![b, c]);
    assert_eq!(silo.usage(), 3);
    silo.erase(b).await.unwrap();
    silo.erase(c).await.unwrap();
    assert_eq!(silo.usage(), 0);
}

async fn concurrent_writers(silo: Arc<dyn Silo>) {
    let mut tasks = Vec::new();
    for n in 0..16u8 {
        let silo = silo.clone();
        tasks.push(tokio::spawn(async move { silo.set(key(100 + n), vec![n; n as usize], SetMode::Insert).await }));
    }
    for n in 0..8u8 {
        let silo = silo.clone();
        tasks.push(tokio::spawn(async move { silo.set(key(200), vec![n; 4], SetMode::Insert).await }));
    }
    let results: Vec<_> = futures_join(tasks).await;
    assert!(results[..16].iter().all(Result::is_ok));
    let won = results[16..].iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "exactly one concurrent insert of one key must win");
    assert!(results[16..].iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(SiloError::Exists { .. }))));
    assert_eq!(silo.list().await.unwrap().len(), 17);
    assert_eq!(silo.usage(), (0..16u64).sum::<u64>() + 4);
    for n in 0..16u8 {
        assert_eq!(silo.get(key(100 + n)).await.unwrap(), vec![n; n as usize]);
    }
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<Result<(), SiloError>>>) -> Vec<Result<(), SiloError>> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn capacity(silo: &dyn Silo) {
    assert_eq!(silo.capacity(), Some(LIMIT));
    let (a, b) = (key(1), key(2));
    silo.set(a, vec![0; 60], SetMode::Insert).await.unwrap();
    match silo.set(b, vec![0; 50], SetMode::Insert).await {
        Err(SiloError::Full { silo: name, needed, free }) => {
            assert_eq!((needed, free), (50, 40));
            assert_eq!(name, silo.name());
        }
        other => panic!("expected the silo to be full, got {other:?}"),
    }
    assert!(matches!(silo.get(b).await, Err(SiloError::NotFound { .. })), "a refused write left data");
    assert_eq!(silo.usage(), 60);
    // Growing an existing block counts only the difference.
    silo.set(a, vec![1; 100], SetMode::Update).await.unwrap();
    assert_eq!(silo.usage(), 100);
    assert!(matches!(
        silo.set(a, vec![1; 101], SetMode::Upsert).await,
        Err(SiloError::Full { needed: 1, free: 0, .. })
    ));
    assert_eq!(silo.get(a).await.unwrap(), vec![1; 100]);
    // Shrinking always fits, and erasing frees space.
    silo.set(a, vec![2; 10], SetMode::Upsert).await.unwrap();
    silo.set(b, vec![3; 90], SetMode::Insert).await.unwrap();
    assert_eq!(silo.usage(), LIMIT);
    silo.erase(b).await.unwrap();
    assert_eq!(silo.usage(), 10);
    silo.set(b, vec![4; 50], SetMode::Insert).await.unwrap();
}
