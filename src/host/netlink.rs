//! Puts a twin's plan on the kernel interface over rtnetlink (the
//! rust-netlink crates, maintained with the kernel's netlink API): MTU, MAC,
//! addresses, up, then the routes (a gateway route needs the link up).
//! rtnetlink is async; a current-thread tokio runtime lives for one call.
use std::net::IpAddr;

use futures_util::TryStreamExt;
use rtnetlink::{Handle, LinkUnspec, RouteMessageBuilder};

use super::plan::TwinPlan;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("opening a netlink socket: {0}")]
    Socket(#[from] std::io::Error),
    #[error("no interface {0:?} appeared")]
    NoInterface(String),
    #[error("{what}: {source}")]
    Request {
        what: String,
        #[source]
        source: rtnetlink::Error,
    },
}

/// Configures the kernel side of `plan` (the interface must exist); returns
/// its interface index.
pub fn configure(plan: &TwinPlan) -> Result<u32, NetlinkError> {
    with_handle(|handle| async move { apply(&handle, plan).await })
}

/// Whether an interface named `name` exists in this network namespace.
pub fn exists(name: &str) -> Result<bool, NetlinkError> {
    with_handle(|handle| async move { Ok(index_of(&handle, name).await.is_ok()) })
}

/// Runs `f` with a netlink connection on a runtime that lives for the call.
fn with_handle<T, Fut>(f: impl FnOnce(Handle) -> Fut) -> Result<T, NetlinkError>
where
    Fut: std::future::Future<Output = Result<T, NetlinkError>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        let task = tokio::spawn(conn);
        let r = f(handle).await;
        task.abort();
        r
    })
}

fn request(what: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetlinkError {
    let what = what.into();
    move |source| NetlinkError::Request { what, source }
}

async fn apply(handle: &Handle, plan: &TwinPlan) -> Result<u32, NetlinkError> {
    let index = index_of(handle, &plan.iface).await?;
    let link = LinkUnspec::new_with_index(index)
        .mtu(u32::from(plan.mtu))
        .address(plan.mac.to_vec())
        .build();
    handle
        .link()
        .set(link)
        .execute()
        .await
        .map_err(request(format!("setting MTU {} and MAC", plan.mtu)))?;
    for a in &plan.addresses {
        handle
            .address()
            .add(index, IpAddr::V4(a.addr), a.len)
            .replace()
            .execute()
            .await
            .map_err(request(format!("adding address {a}")))?;
    }
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(request("bringing the link up"))?;
    for r in &plan.routes {
        let mut b = RouteMessageBuilder::<std::net::Ipv4Addr>::new()
            .destination_prefix(r.prefix.addr, r.prefix.len)
            .output_interface(index);
        if let Some(gw) = r.via {
            b = b.gateway(gw);
        } else {
            b = b.scope(rtnetlink::packet_route::route::RouteScope::Link);
        }
        handle
            .route()
            .add(b.build())
            .replace()
            .execute()
            .await
            .map_err(request(format!(
                "adding route {} via {:?}",
                r.prefix, r.via
            )))?;
    }
    Ok(index)
}

async fn index_of(handle: &Handle, name: &str) -> Result<u32, NetlinkError> {
    let mut links = handle.link().get().match_name(name.to_owned()).execute();
    match links.try_next().await {
        Ok(Some(link)) => Ok(link.header.index),
        Ok(None) | Err(_) => Err(NetlinkError::NoInterface(name.to_owned())),
    }
}
