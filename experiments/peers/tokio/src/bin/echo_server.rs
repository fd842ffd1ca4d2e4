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

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "../net_server.rs"]
mod net_server;

const DEFAULT_PORT: u16 = 7000;
const BUF_SIZE: usize = 4096; // the per-connection read buffer

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

fn main() {
    net_server::serve("echo_server", DEFAULT_PORT, echo);
}
