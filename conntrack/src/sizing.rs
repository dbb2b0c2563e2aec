//! What one worker's tracking tables cost, for start-up checks that must
//! refuse a capacity the machine cannot hold before anything is allocated.

use crate::table::ConnTable;
use crate::template::TemplateTable;

/// Bytes one worker's connection table of `conns` entries and its
/// persistence-template table (`TemplateTable::capacity_for(conns)`) hold
/// when full.
pub fn worker_memory_bytes_for(conns: usize) -> usize {
    ConnTable::memory_bytes_for(conns).saturating_add(TemplateTable::memory_bytes_for(
        TemplateTable::capacity_for(conns),
    ))
}
