//! `bare-warp ADDR PATH=FILE...`: a warp server with nothing but exact-path GET routes answering the bytes of
//! FILE as `application/json`. It is the baseline of `tools/bench/ratio.sh`: the host answering the same bytes
//! pays for its middleware chain, routing and slot calls; this pays for HTTP alone.

use std::{collections::HashMap, convert::Infallible, net::SocketAddr, sync::Arc};

use warp::{
    Filter,
    http::{Response, StatusCode},
};

fn usage() -> ! {
    eprintln!("usage: bare-warp ADDR PATH=FILE...");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args.next().and_then(|a| a.parse().ok()).unwrap_or_else(|| usage());
    let mut bodies = HashMap::new();
    for route in args {
        let Some((path, file)) = route.split_once('=') else {
            usage()
        };
        let body = std::fs::read(file).unwrap_or_else(|e| {
            eprintln!("bare-warp: cannot read {file}: {e}");
            std::process::exit(2);
        });
        bodies.insert(path.to_owned(), body);
    }
    let bodies = Arc::new(bodies);
    let routes = warp::get()
        .and(warp::path::full())
        .map(move |path: warp::path::FullPath| {
            let response = Response::builder().header("content-type", "application/json");
            match bodies.get(path.as_str()) {
                Some(body) => response.body(body.clone()),
                None => response.status(StatusCode::NOT_FOUND).body(Vec::new()),
            }
            .unwrap_or_else(|_| Response::new(Vec::new()))
        });
    let routes = routes.recover(|_| async { Ok::<_, Infallible>(StatusCode::NOT_FOUND) });
    eprintln!("bare-warp listening on http://{addr}");
    warp::serve(routes).run(addr).await;
}
