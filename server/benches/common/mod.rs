//! What the benchmarks share: the scale knob and a real server on 127.0.0.1.

use clap::Parser;
use server::{config::Config, state::AppState};

/// `n` times `BENCH_SCALE` (default 1), at least 1.
pub fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale).round() as usize).max(1)
}

/// Starts the server on its own runtime (two workers, like the machine) so the client's
/// runtime does not share its scheduler. Returns the base URL; the server lives until exit.
pub fn start_server(data_dir: &str) -> String {
    start_server_with(data_dir, &[])
}

/// [`start_server`] with more flags (`--upstream …`, `--store …`).
pub fn start_server_with(data_dir: &str, extra: &[String]) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    let data_dir = data_dir.to_string();
    let extra = extra.to_vec();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let mut args = vec!["server", "--addr", "127.0.0.1:0", "--data-dir", &data_dir];
            args.extend(extra.iter().map(String::as_str));
            let config = Config::try_parse_from(args)
                .expect("flags")
                .resolve()
                .expect("config");
            let state = AppState::open(&config).await.expect("state");
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tx.send(format!("http://{addr}")).expect("send addr");
            let _ = server::serve(listener, state).await;
        });
    });
    rx.recv().expect("server address")
}
