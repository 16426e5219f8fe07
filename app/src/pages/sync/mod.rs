//! The sync status route: every write saved on this device and what became of it.

pub mod edit_link;
pub mod find_created;
pub mod health;
pub mod idle_lock_setting;
pub mod merge_dialog;
pub mod page;
pub mod retention_setting;
pub mod review_item;
pub mod write_row;
