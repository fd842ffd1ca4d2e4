//! E11 HTTP "hello" server on Tokio (the peer of experiments/peers/libuv/http_hello.c
//! and of the Volt-C HTTP example), driven by wrk through experiments/net_bench.sh.
//!
//!     http_hello [--port P] [--workers N]
//!
//! A multi-threaded runtime with N workers; the accept loop is a task on the
//! runtime, and each accepted connection (TCP_NODELAY) gets a task serving
//! HTTP/1.1 keep-alive: it reads into a 4096-byte buffer, and for each
//! complete request in it (the head ends with "\r\n\r\n"; several pipelined
//! requests in one read and a request split across reads both work) appends
//! the fixed response below, written with one write_all per read. Bodies are
//! not supported (the load is GETs); a head that does not fit in the buffer,
//! EOF or an error closes the connection. Listens on 127.0.0.1:P.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "../net_server.rs"]
mod net_server;

const DEFAULT_PORT: u16 = 8080;
const BUF_SIZE: usize = 4096; // the per-connection request buffer
const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";

/// Where the first "\r\n\r\n" in `buf` ends, if there is one.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Serves requests on one connection until EOF, an error or an oversized head.
async fn serve(mut sock: TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    let mut filled = 0; // bytes of buf holding a request not yet complete
    let mut out = Vec::with_capacity(RESPONSE.len());
    loop {
        if filled == buf.len() {
            return; // a request head larger than the buffer
        }
        let n = match sock.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Only the new bytes and the 3 before them can complete a head.
        let mut scan = filled.saturating_sub(3);
        let mut done = 0; // the end of the last complete request
        filled += n;
        while let Some(end) = head_end(&buf[scan..filled]) {
            done = scan + end;
            scan = done;
            out.extend_from_slice(RESPONSE);
        }
        buf.copy_within(done..filled, 0);
        filled -= done;
        if !out.is_empty() {
            if sock.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

fn main() {
    net_server::serve("http_hello", DEFAULT_PORT, serve);
}
