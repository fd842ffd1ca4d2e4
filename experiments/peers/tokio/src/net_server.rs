//! What the two E11 Tokio peers (src/bin/echo_server.rs, src/bin/http_hello.rs)
//! share: `--port P --workers N`, the multi-threaded runtime, the listener on
//! 127.0.0.1:P, its "listening on" line and the accept loop (a task on a
//! worker, like the connection tasks; TCP_NODELAY on each connection).
//! Included by both with `#[path]`.

use std::future::Future;
use std::process::exit;

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;

const DEFAULT_WORKERS: usize = 2;

fn usage(prog: &str) -> ! {
    eprintln!("usage: {} [--port P] [--workers N]", prog);
    exit(2)
}

/// `--port P --workers N`; the port defaults to `default_port`, workers to 2.
fn parse_args(default_port: u16) -> (u16, usize) {
    let args: Vec<String> = std::env::args().collect();
    let (mut port, mut workers) = (default_port, DEFAULT_WORKERS);
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).unwrap_or_else(|| usage(&args[0]));
        match args[i].as_str() {
            "--port" => port = v.parse().unwrap_or_else(|_| usage(&args[0])),
            "--workers" => match v.parse() {
                Ok(n) if (1..=1024).contains(&n) => workers = n,
                _ => usage(&args[0]),
            },
            _ => usage(&args[0]),
        }
        i += 2;
    }
    (port, workers)
}

/// Runs the server `name` until killed: every accepted connection gets a task
/// running `conn(stream)`.
pub fn serve<F, Fut>(name: &'static str, default_port: u16, conn: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (port, workers) = parse_args(default_port);
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("{}: runtime: {}", name, e);
            exit(1)
        });
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap_or_else(|e| {
            eprintln!("{}: bind 127.0.0.1:{}: {}", name, port, e);
            exit(1)
        });
        eprintln!("{}: listening on 127.0.0.1:{} (tokio, {} workers)", name, port, workers);
        let _ = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((sock, _)) => {
                        let _ = sock.set_nodelay(true);
                        tokio::spawn(conn(sock));
                    }
                    // EMFILE and the like: report and go on (the client will notice).
                    Err(e) => eprintln!("{}: accept: {}", name, e),
                }
            }
        })
        .await;
    });
}
