//! keepalived's notify FIFO, read line by line with timestamps.
use super::*;

/// A notify FIFO (mkfifo) read by a thread that stamps every line.
/// Opened read-write, so writers never block and it never sees EOF.
pub struct Fifo {
    pub path: PathBuf,
    dir: PathBuf,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fifo {
    /// A new FIFO named `name` in a private directory.
    pub fn create(name: &str) -> Fifo {
        let dir = unique("ferrovs-vrrp-fifo");
        let path = dir.join(name);
        let st = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
        assert!(st.success(), "mkfifo {}", path.display());
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("opening the fifo");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (lines, stop) = (lines.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut file = file;
                let fd = file.as_raw_fd();
                let start = Instant::now();
                let mut pending = String::new();
                let mut buf = [0u8; 4096];
                // At most an hour, in 50 ms polls.
                while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(3600) {
                    let mut pfd = libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    let n = unsafe { libc::poll(&mut pfd, 1, 50) };
                    if n <= 0 || pfd.revents & libc::POLLIN == 0 {
                        continue;
                    }
                    let got = match file.read(&mut buf) {
                        Ok(0) | Err(_) => continue,
                        Ok(g) => g,
                    };
                    let at = Instant::now();
                    pending.push_str(&String::from_utf8_lossy(&buf[..got]));
                    while let Some(i) = pending.find('\n') {
                        let line: String = pending.drain(..=i).collect();
                        lines.lock().unwrap().push((at, line.trim_end().to_owned()));
                    }
                }
            })
        };
        Fifo {
            path,
            dir,
            lines,
            stop,
            thread: Some(thread),
        }
    }

    pub fn lines(&self) -> Vec<(Instant, String)> {
        self.lines.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        self.lines()
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits (bounded) for a line containing `substr`: when it was read.
    pub fn wait_for(&self, substr: &str, timeout: Duration) -> Option<Instant> {
        self.wait_line(None, timeout, |l| l.contains(substr))
    }

    /// Waits (bounded) for keepalived's `INSTANCE "VI_1" <state> <prio>`
    /// line with exactly `state` (MASTER, BACKUP, FAULT, STOP), read after
    /// `after` when given.
    pub fn wait_state(
        &self,
        state: &str,
        after: Option<Instant>,
        timeout: Duration,
    ) -> Option<Instant> {
        self.wait_line(after, timeout, |l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 3 && w[0] == "INSTANCE" && w[1] == format!("\"{INSTANCE}\"") && w[2] == state
        })
    }

    /// The state of the last `INSTANCE "VI_1" <state> <prio>` line.
    pub fn last_state(&self) -> Option<String> {
        self.lines().iter().rev().find_map(|(_, l)| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 3
                && w[0] == "INSTANCE"
                && ["MASTER", "BACKUP", "FAULT", "STOP"].contains(&w[2]))
            .then(|| w[2].to_owned())
        })
    }

    pub fn wait_line(
        &self,
        after: Option<Instant>,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<Instant> {
        let mut found = None;
        wait_until(timeout, Duration::from_millis(10), || {
            found = self
                .lines()
                .into_iter()
                .find(|(t, l)| after.is_none_or(|a| *t >= a) && pred(l))
                .map(|(t, _)| t);
            found.is_some()
        });
        found
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!("fifo {} read:\n{}", self.path.display(), self.text());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
