//! A minimal HTTP responder for Prometheus scrapes: any GET gets the text exposition;
//! requests are read with a size and time bound, and only loopback addresses are served.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::metrics::Metrics;
use crate::router::Router;

/// Serves scrapes until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, metrics: Arc<Metrics>, router: Arc<Router>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = Arc::clone(&metrics);
        let router = Arc::clone(&router);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), answer(stream, &metrics, &router))
                .await;
        });
    }
}

async fn answer(mut stream: TcpStream, metrics: &Metrics, router: &Router) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let response = if request.starts_with(b"GET ") {
        let body = metrics.render(router);
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_owned()
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
