//! Resets the built-in backend's demo database: deletes `care.sqlite3` (with its WAL files)
//! in the data directory and seeds a fresh one. Stop the server first.

use std::path::PathBuf;

use clap::Parser;

/// Deletes and reseeds the demo database of the built-in CARE backend.
#[derive(Debug, Parser)]
#[command(name = "reset_demo")]
struct Args {
    /// The server's data directory (holds `care.sqlite3`).
    #[arg(long = "data-dir", env = "CARE_OFFLINE_DATA", default_value = "data")]
    data_dir: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.data_dir)?;
    let db = args.data_dir.join("care.sqlite3");
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot delete {}: {e}", path.display()),
        }
    }
    care_mimic::Care::open(&db)?;
    println!("demo database reset: {}", db.display());
    Ok(())
}
