//! Reads the configuration, opens the state and serves. Everything else lives in the library.
// Leptos view types nest deeply (the registration form).
#![recursion_limit = "512"]

use clap::Parser;
use server::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::logging::init();
    let config = Config::parse().resolve()?;
    let state = server::state::AppState::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to learn the port when started with port 0.
    println!("listening on http://{addr}");
    if state.care.is_some() {
        println!(
            "built-in CARE backend: demo data in {}",
            config.data_dir.display()
        );
        println!(
            "demo logins (password {}):",
            care_mimic::seed::DEMO_PASSWORD
        );
        for user in care_mimic::seed::DEMO_USERS {
            println!("  {:<16} {}", user.username, user.role.name());
        }
    } else if let Some(upstream) = &config.upstream {
        println!("proxying /api/v1/* to {upstream}");
        if let server::config::StoreChoice::Postgres(_) = &config.store {
            println!("idempotency keys on PostgreSQL (shared by every replica)");
        }
    }
    server::serve(listener, state).await?;
    Ok(())
}
