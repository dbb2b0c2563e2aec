//! Waiting for a control-plane socket (VRRP, sync) with poll(2): it sleeps
//! on a high-resolution timer, where a socket receive timeout is rounded up
//! to the kernel's tick (4 ms here) and would make timers late.
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Whether `fd` became readable within `timeout` (false on a signal).
pub fn wait_readable(fd: impl AsFd, timeout: Duration) -> std::io::Result<bool> {
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    match poll(
        &mut fds,
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::ZERO),
    ) {
        Ok(n) => Ok(n > 0),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// One non-blocking read after `wait_readable`: `None` when nothing was there.
pub fn read_ready(mut r: impl std::io::Read, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
    match r.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
