//! keepalived's notifications for one instance: the state script
//! (notify_master/backup/fault/stop), the generic `notify` script with
//! "INSTANCE" name state priority appended, and a line on the notify fifo
//! (`INSTANCE "VI_1" MASTER 100`). Scripts run in the background and are
//! reaped later; nothing here waits on them or on a fifo reader.
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use control::config::health::Script;

/// What a transition is called in keepalived's notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Master,
    Backup,
    Fault,
    Stop,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::Master => "MASTER",
            Event::Backup => "BACKUP",
            Event::Fault => "FAULT",
            Event::Stop => "STOP",
        }
    }
}

#[derive(Default)]
pub struct Notifier {
    pub instance: String,
    pub master: Option<Script>,
    pub backup: Option<Script>,
    pub fault: Option<Script>,
    pub stop: Option<Script>,
    pub generic: Option<Script>,
    pub fifo: Option<PathBuf>,
    children: Vec<Child>,
}

impl Notifier {
    pub fn new(instance: &str) -> Notifier {
        Notifier {
            instance: instance.to_string(),
            ..Notifier::default()
        }
    }

    /// Runs every notification of `event` at `priority`.
    pub fn notify(&mut self, event: Event, priority: u8) {
        let specific = match event {
            Event::Master => self.master.clone(),
            Event::Backup => self.backup.clone(),
            Event::Fault => self.fault.clone(),
            Event::Stop => self.stop.clone(),
        };
        if let Some(s) = specific {
            self.spawn(&s, &[]);
        }
        if let Some(s) = self.generic.clone() {
            let args = [
                "INSTANCE".to_string(),
                self.instance.clone(),
                event.name().to_string(),
                priority.to_string(),
            ];
            self.spawn(&s, &args);
        }
        if let Some(path) = &self.fifo {
            let line = format!(
                "INSTANCE \"{}\" {} {priority}\n",
                self.instance,
                event.name()
            );
            // Non-blocking: with no reader the open fails (ENXIO) and the
            // line is lost, as it would be to a reader that is not there.
            let written = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = written {
                tracing::debug!(fifo = %path.display(), error = %e, "notify fifo not written");
            }
        }
        self.reap();
    }

    fn spawn(&mut self, script: &Script, extra: &[String]) {
        let argv = match script.argv() {
            Ok(a) if !a.is_empty() => a,
            _ => return,
        };
        match Command::new(&argv[0])
            .args(&argv[1..])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => self.children.push(c),
            Err(e) => {
                tracing::warn!(instance = %self.instance, script = %script, error = %e, "notify script did not start")
            }
        }
    }

    /// Collects finished scripts (called on every notification and tick).
    pub fn reap(&mut self) {
        self.children
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    #[test]
    fn fifo_lines_have_keepalived_s_format() {
        let dir = std::env::temp_dir().join(format!("fvs-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // The reader opens first (read-write, so it never sees end of file).
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .unwrap();
        let mut n = Notifier::new("VI_1");
        n.fifo = Some(fifo.clone());
        n.notify(Event::Master, 150);
        n.notify(Event::Stop, 0);
        let mut lines = BufReader::new(reader).lines();
        assert_eq!(
            lines.next().unwrap().unwrap(),
            "INSTANCE \"VI_1\" MASTER 150"
        );
        assert_eq!(lines.next().unwrap().unwrap(), "INSTANCE \"VI_1\" STOP 0");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_generic_script_gets_keepalived_s_four_arguments() {
        let dir = std::env::temp_dir().join(format!("fvs-notify-s-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("args");
        let mut n = Notifier::new("VI_1");
        n.generic = Some(Script(format!(
            "/bin/sh -c 'echo \"$@\" > {}' sh",
            out.display()
        )));
        n.notify(Event::Backup, 100);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read_to_string(&out).map_or(true, |s| !s.ends_with('\n'))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "INSTANCE VI_1 BACKUP 100\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
