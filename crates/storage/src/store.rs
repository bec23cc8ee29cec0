//! The live catalog set: loaded from its source, replaced atomically on reload, and never
//! replaced by anything that fails validation.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use certequiv_domain::{Catalog, CatalogParts};
use notify::{RecursiveMode, Watcher};

use crate::cases::{CASES_SUFFIX, cases_path, catalog_paths_of, is_cases_file, parse_cases};
use crate::set::{CatalogSet, LoadedCatalog};
use crate::translate::{TableLines, locate};
use crate::{EMBEDDED_CASES, EMBEDDED_CATALOG, EMBEDDED_ORIGIN, FileError, Format, LoadError};

/// Where catalogs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The default catalog compiled into the binary.
    Embedded,
    /// Every `*.toml` and `*.jsonl` file in a directory (a ConfigMap mount, typically),
    /// `*.cases.toml` files being the expected-verdict cases of the catalog file of the same
    /// name.
    Dir(PathBuf),
}

/// What a load does with a catalog's expected-verdict cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cases {
    /// Run them: a failing case refuses the catalog (serving, `certequiv validate`).
    Enforce,
    /// Read them and keep them with the catalog, passing or not (review pages, diffs).
    Attach,
}

/// The outcome of the last load attempt, for `ListCatalogs` and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadStatus {
    pub ok: bool,
    pub attempted_at: Option<jiff::Timestamp>,
    pub error: String,
    pub failures_total: u64,
    /// Successful loads since start, the first included.
    pub generation: u64,
}

/// Holds the catalog set the server answers from.
#[derive(Debug)]
pub struct Store {
    source: Source,
    default_jurisdiction: String,
    current: ArcSwap<CatalogSet>,
    status: Mutex<ReloadStatus>,
    fingerprint: Mutex<Vec<FileStamp>>,
}

impl Store {
    /// Loads the source once; fails when it does not validate, so a bad start never serves.
    pub fn open(source: Source, default_jurisdiction: &str) -> Result<Store, LoadError> {
        let fingerprint = stamp(&source);
        let set = load_source(&source, default_jurisdiction, Cases::Enforce)?;
        Ok(Store {
            source,
            default_jurisdiction: default_jurisdiction.to_owned(),
            current: ArcSwap::from_pointee(set),
            status: Mutex::new(ReloadStatus {
                ok: true,
                attempted_at: Some(jiff::Timestamp::now()),
                error: String::new(),
                failures_total: 0,
                generation: 1,
            }),
            fingerprint: Mutex::new(fingerprint),
        })
    }

    /// The current set. A request keeps the snapshot it took even if a reload swaps another in.
    pub fn snapshot(&self) -> Arc<CatalogSet> {
        self.current.load_full()
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn status(&self) -> ReloadStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reloads when the files changed since the last attempt. Returns whether a new set was
    /// swapped in; on failure the current set stays and the failure is recorded.
    pub fn reload_if_changed(&self) -> Result<bool, LoadError> {
        let now = stamp(&self.source);
        {
            let mut last = self
                .fingerprint
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *last == now {
                return Ok(false);
            }
            *last = now;
        }
        self.reload().map(|()| true)
    }

    /// Loads and validates the source in full, then swaps it in.
    pub fn reload(&self) -> Result<(), LoadError> {
        let result = load_source(&self.source, &self.default_jurisdiction, Cases::Enforce);
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.attempted_at = Some(jiff::Timestamp::now());
        match result {
            Ok(set) => {
                // `id@etag,id@etag`: one plain field in text and JSON logs alike.
                let catalogs = set
                    .catalogs()
                    .iter()
                    .map(|c| format!("{}@{}", c.catalog.id(), c.catalog.etag()))
                    .collect::<Vec<_>>()
                    .join(",");
                self.current.store(Arc::new(set));
                status.ok = true;
                status.error.clear();
                status.generation += 1;
                tracing::info!(%catalogs, generation = status.generation, "catalogs reloaded");
                Ok(())
            }
            Err(error) => {
                status.ok = false;
                status.error = error.to_string();
                status.failures_total += 1;
                tracing::error!(%error, failures_total = status.failures_total, "catalog reload refused, keeping the loaded catalogs");
                Err(error)
            }
        }
    }

    /// Watches a directory source until `stop` returns true: inotify events trigger a reload
    /// check at once, and a poll every `interval` catches what events miss (some volume types
    /// send none). Returns at once for the embedded source.
    pub fn watch(&self, interval: Duration, stop: impl Fn() -> bool) {
        let Source::Dir(dir) = &self.source else {
            return;
        };
        let (tx, rx) = channel();
        // Watch the directory, not the files: editors and Kubernetes replace files by rename
        // and swap the `..data` symlink, which a watch on the old file would never see.
        let watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .and_then(|mut w| w.watch(dir, RecursiveMode::NonRecursive).map(|()| w));
        if let Err(error) = &watcher {
            tracing::warn!(%error, dir = %dir.display(), "file events unavailable, polling only");
        }
        while !stop() {
            match rx.recv_timeout(interval) {
                // One save fires several events: let them settle before reading.
                Ok(_) => {
                    std::thread::sleep(Duration::from_millis(100));
                    while rx.try_recv().is_ok() {}
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(interval),
            }
            if stop() {
                break;
            }
            // The error is recorded in the status and logged by reload.
            let _ = self.reload_if_changed();
        }
        drop(watcher);
    }
}

/// What identifies a file version without reading it: a ConfigMap update changes the resolved
/// path (new `..data` target); an edit changes length or mtime.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    name: String,
    resolved: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(source: &Source) -> Vec<FileStamp> {
    let Source::Dir(dir) = source else {
        return Vec::new();
    };
    let mut files = catalog_files(dir).unwrap_or_default();
    // A changed cases file reloads too.
    files.extend(cases_files(dir).unwrap_or_default());
    files
        .into_iter()
        .map(|path| {
            let meta = fs::metadata(&path).ok();
            FileStamp {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                resolved: fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
                len: meta.as_ref().map_or(0, fs::Metadata::len),
                modified: meta.and_then(|m| m.modified().ok()),
            }
        })
        .collect()
}

/// The catalog files of a directory: its `*.toml` files but `*.cases.toml`, and its `*.jsonl`
/// files, sorted, hidden entries (ConfigMap's `..data`) skipped.
pub fn catalog_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(format_files(dir)?
        .into_iter()
        .filter(|path| !is_cases_file(path))
        .collect())
}

/// The `*.cases.toml` files of a directory, sorted.
pub fn cases_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(format_files(dir)?
        .into_iter()
        .filter(|p| is_cases_file(p))
        .collect())
}

/// The files of a directory with the extension of a catalog [`Format`], sorted.
fn format_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden && Format::of_path(&path).is_some() && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// What the catalog files of a directory are called, for messages.
const CATALOG_FILES: &str = "*.toml or *.jsonl catalog files";

/// The catalog files `paths` name: files as given (a cases file stands for its catalog file),
/// directories expanded to their catalog files.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for path in paths {
        let found = if path.is_dir() {
            let found = catalog_files(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if found.is_empty() {
                return Err(format!("{}: no {CATALOG_FILES}", path.display()));
            }
            found
        } else {
            vec![catalog_of(path).unwrap_or_else(|| path.clone())]
        };
        for file in found {
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// The catalog file the cases file `path` is for: the one of its candidates that exists, else
/// the first (whose absence the load then reports); `None` when `path` is not a cases file.
fn catalog_of(path: &Path) -> Option<PathBuf> {
    let candidates = catalog_paths_of(path)?;
    let existing = candidates.iter().find(|candidate| candidate.is_file());
    existing.or(candidates.first()).cloned()
}

/// Loads one TOML catalog file's text into a validated catalog.
pub fn load_text(origin: &str, text: &str) -> Result<LoadedCatalog, Vec<FileError>> {
    load_text_as(Format::Toml, origin, text)
}

/// Loads one catalog file's text of `format` into a validated catalog.
pub fn load_text_as(
    format: Format,
    origin: &str,
    text: &str,
) -> Result<LoadedCatalog, Vec<FileError>> {
    let (parts, lines) = format.parse_located(origin, text)?;
    validate(origin, parts, || lines)
}

/// Validates and indexes parsed parts; `lines` locates the violations, if any.
fn validate(
    origin: &str,
    parts: CatalogParts,
    lines: impl FnOnce() -> TableLines,
) -> Result<LoadedCatalog, Vec<FileError>> {
    let catalog = Catalog::new(parts).map_err(|violations| {
        let lines = lines();
        violations
            .into_iter()
            .map(|v| locate(origin, &lines, v))
            .collect::<Vec<_>>()
    })?;
    Ok(LoadedCatalog::new(catalog, origin))
}

/// Loads one file, in the format its extension names (TOML for any other extension, as a file
/// named on the command line always was). Its text is freed before the catalog is validated
/// and indexed: a large file's text would otherwise stay in memory beside everything built
/// from it.
fn load_file(origin: &str, path: &Path) -> Result<LoadedCatalog, Vec<FileError>> {
    let format = Format::of_path(path).unwrap_or(Format::Toml);
    let text = fs::read_to_string(path)
        .map_err(|e| vec![FileError::whole(origin, format!("cannot read: {e}"))])?;
    let (parts, lines) = format.parse_located(origin, &text)?;
    drop(text);
    validate(origin, parts, || lines)
}

/// Reads the cases file beside a catalog file, if there is one; `origin` names the catalog
/// file in errors, and the cases file is named the same way.
fn cases_of(
    origin: &str,
    catalog: &Path,
) -> Result<Option<crate::cases::CaseFile>, Vec<FileError>> {
    let path = cases_path(catalog);
    if !path.is_file() {
        return Ok(None);
    }
    let origin = cases_path(Path::new(origin)).display().to_string();
    let text = fs::read_to_string(&path)
        .map_err(|e| vec![FileError::whole(&origin, format!("cannot read: {e}"))])?;
    parse_cases(&origin, &text).map(Some)
}

/// Attaches `cases` to a loaded catalog, after running them when `mode` says so.
fn with_cases(
    mut loaded: LoadedCatalog,
    cases: Option<crate::cases::CaseFile>,
    mode: Cases,
) -> Result<LoadedCatalog, Vec<FileError>> {
    if let Some(cases) = &cases {
        let failures = match mode {
            Cases::Enforce => cases.check(&loaded.catalog),
            Cases::Attach => Vec::new(),
        };
        if !failures.is_empty() {
            return Err(failures);
        }
    }
    loaded.cases = cases;
    Ok(loaded)
}

/// Loads files and the cases beside them (for `certequiv validate`), collecting every error
/// (a failing case is one); each is named by its path as given.
pub fn load_files(paths: &[PathBuf]) -> Result<Vec<LoadedCatalog>, Vec<FileError>> {
    load_files_with(paths, Cases::Enforce)
}

/// [`load_files`], with the cases run or only attached.
pub fn load_files_with(
    paths: &[PathBuf],
    mode: Cases,
) -> Result<Vec<LoadedCatalog>, Vec<FileError>> {
    load_named(
        paths.iter().map(|path| (path.display().to_string(), path)),
        mode,
    )
}

/// The name of a file of a catalog directory: its path within the directory, what callers see
/// in `ListCatalogs` and reload errors, without the server's own paths.
fn name_in(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// Loads the files of a catalog directory, each named by its path within the directory.
fn load_dir_files(
    dir: &Path,
    paths: &[PathBuf],
    mode: Cases,
) -> Result<Vec<LoadedCatalog>, Vec<FileError>> {
    load_named(paths.iter().map(|path| (name_in(dir, path), path)), mode)
}

fn load_named<'p>(
    files: impl Iterator<Item = (String, &'p PathBuf)>,
    mode: Cases,
) -> Result<Vec<LoadedCatalog>, Vec<FileError>> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    let mut names: Vec<(PathBuf, String)> = Vec::new();
    for (origin, path) in files {
        // `NAME.toml` and `NAME.jsonl` would share `NAME.cases.toml`, and most likely are one
        // catalog converted and left behind: refuse the pair rather than guess.
        let cases = cases_path(path);
        if let Some((_, first)) = names.iter().find(|(other, _)| *other == cases) {
            errors.push(FileError::whole(
                &origin,
                format!("{first} has the same name: keep one catalog file per NAME"),
            ));
            continue;
        }
        names.push((cases, origin.clone()));
        let catalog = load_file(&origin, path);
        let cases = cases_of(&origin, path);
        match (catalog, cases) {
            (Ok(catalog), Ok(cases)) => match with_cases(catalog, cases, mode) {
                Ok(catalog) => loaded.push(catalog),
                Err(e) => errors.extend(e),
            },
            (catalog, cases) => {
                errors.extend(catalog.err().unwrap_or_default());
                errors.extend(cases.err().unwrap_or_default());
            }
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// The embedded catalog with its embedded cases.
pub fn load_embedded(mode: Cases) -> Result<LoadedCatalog, Vec<FileError>> {
    let origin = format!("{EMBEDDED_ORIGIN} cases");
    let catalog = load_text(EMBEDDED_ORIGIN, EMBEDDED_CATALOG)?;
    let cases = parse_cases(&origin, EMBEDDED_CASES)?;
    with_cases(catalog, Some(cases), mode)
}

/// Loads a source into a validated set, as the server does (`Cases::Enforce`) or for review.
pub fn load_source(
    source: &Source,
    default_jurisdiction: &str,
    mode: Cases,
) -> Result<CatalogSet, LoadError> {
    let loaded = match source {
        Source::Embedded => vec![load_embedded(mode).map_err(LoadError)?],
        Source::Dir(dir) => {
            let files = catalog_files(dir).map_err(|e| {
                LoadError(vec![FileError::whole(
                    &dir.display().to_string(),
                    format!("cannot read catalog directory: {e}"),
                )])
            })?;
            if files.is_empty() {
                return Err(LoadError(vec![FileError::whole(
                    &dir.display().to_string(),
                    format!("no {CATALOG_FILES} in the directory"),
                )]));
            }
            let beside_a_catalog = |cases: &PathBuf| {
                catalog_paths_of(cases).is_some_and(|paths| paths.iter().any(|c| files.contains(c)))
            };
            let orphans: Vec<FileError> = cases_files(dir)
                .unwrap_or_default()
                .into_iter()
                .filter(|cases| !beside_a_catalog(cases))
                .map(|cases| {
                    FileError::whole(
                        &name_in(dir, &cases),
                        format!(
                            "no catalog file beside these cases (a NAME{CASES_SUFFIX} file holds the cases of NAME.toml or NAME.jsonl)"
                        ),
                    )
                })
                .collect();
            match load_dir_files(dir, &files, mode) {
                Ok(loaded) if orphans.is_empty() => loaded,
                Ok(_) => return Err(LoadError(orphans)),
                Err(mut errors) => {
                    errors.extend(orphans);
                    return Err(LoadError(errors));
                }
            }
        }
    };
    CatalogSet::new(loaded, default_jurisdiction).map_err(LoadError)
}
