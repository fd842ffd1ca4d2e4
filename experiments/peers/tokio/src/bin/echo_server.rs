//! E11 TCP echo server on Tokio (the peer of experiments/peers/libuv/echo_server.c
//! and of the Volt-C echo example), driven by experiments/echo_load.c through
//! experiments/net_bench.sh.
//!
//!     echo_server [--port P] [--workers N]
//!
//! A multi-threaded runtime with N workers; the accept loop is itself a task
//! on the runtime (the main thread only waits for it), and each accepted
//! connection (TCP_NODELAY) gets a task that reads into a 4096-byte buffer and
//! write_all's back what it read, until EOF or an error. Listens on
//! 127.0.0.1:P; prints nothing on stdout, one "listening on" line on stderr.

use std::process::exit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;

const DEFAULT_PORT: u16 = 7000;
const DEFAULT_WORKERS: usize = 2;
const BUF_SIZE: usize = 4096; // the per-connection read buffer

fn usage(prog: &str) -> ! {
    eprintln!("usage: {} [--port P] [--workers N]", prog);
    exit(2)
}

/// `--port P --workers N`, with the defaults above.
fn parse_args() -> (u16, usize) {
    let args: Vec<String> = std::env::args().collect();
    let (mut port, mut workers) = (DEFAULT_PORT, DEFAULT_WORKERS);
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

/// Echoes everything the peer sends until it closes (or an error).
async fn echo(mut sock: TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if sock.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                let _ = sock.set_nodelay(true);
                tokio::spawn(echo(sock));
            }
            // EMFILE and the like: report and go on (the client will notice).
            Err(e) => eprintln!("echo_server: accept: {}", e),
        }
    }
}

fn main() {
    let (port, workers) = parse_args();
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("echo_server: runtime: {}", e);
            exit(1)
        });
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap_or_else(|e| {
            eprintln!("echo_server: bind 127.0.0.1:{}: {}", port, e);
            exit(1)
        });
        eprintln!("echo_server: listening on 127.0.0.1:{} (tokio, {} workers)", port, workers);
        // On a worker, like the connection tasks, not on this (the main) thread.
        let _ = tokio::spawn(accept_loop(listener)).await;
    });
}
