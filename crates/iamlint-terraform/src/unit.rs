//! Units of analysis: root modules, the child modules they call, and the files they read.
//!
//! A [`Workspace`] holds every file and parsed module of one run, shared by the units that are
//! analysed in parallel (a module called by several roots is parsed once). File ids continue
//! after the ids the caller has already given out, in a deterministic order for the files
//! found by the walk; files read later (a `file()` target, a module outside the walked tree)
//! get the next free id.

use crate::module::{Module, is_local_source, normalize};
use iamlint_core::{FileId, SourceFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Files larger than this are not read unless the caller says otherwise
/// ([`Workspace::with_max_file_size`]; a Terraform file of 10 MiB is not hand-written).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// What evaluation needs from the outside world.
pub trait UnitLoader {
    /// The module a `module` block of `caller` calls (`source`), when it can be found.
    fn module(
        &self,
        caller: &Module,
        call_name: &str,
        source: &str,
        caller_prefix: &str,
    ) -> Option<Arc<Module>>;
    /// A file read by `file()`/`templatefile()` or a variable definitions file.
    fn read_file(&self, path: &Path) -> Option<Arc<SourceFile>>;
    /// A file already read.
    fn source(&self, id: FileId) -> Option<Arc<SourceFile>>;
}

/// A file of the workspace: its path, and its text while it is held.
struct Entry {
    path: PathBuf,
    file: Option<Arc<SourceFile>>,
}

#[derive(Default)]
struct FileTable {
    entries: HashMap<u32, Entry>,
    by_path: HashMap<PathBuf, u32>,
    /// The files of each (normalised) folder.
    by_dir: HashMap<PathBuf, Vec<u32>>,
}

impl FileTable {
    fn push(&mut self, path: PathBuf, id: u32) {
        let dir = normalize(path.parent().unwrap_or(Path::new(".")));
        self.by_dir.entry(dir).or_default().push(id);
        self.by_path.insert(path.clone(), id);
        self.entries.insert(id, Entry { path, file: None });
    }
}

/// The file ids given out: shared by the workspaces of one run, so that each file read gets
/// an id no other file of the run has.
pub type FileIds = Arc<AtomicU32>;

/// Every Terraform file and module of one run (or of a part of it: see [`Workspace::sharing`]).
pub struct Workspace {
    ids: FileIds,
    files: Mutex<FileTable>,
    modules: Mutex<HashMap<PathBuf, Arc<Module>>>,
    /// What every module parsed so far calls and reported, kept when the module itself is
    /// released (see [`Workspace::release`]).
    parsed: Mutex<HashMap<PathBuf, Parsed>>,
    /// Texts read instead of the files at these (normalised) paths: an editor's unsaved buffers.
    overlay: HashMap<PathBuf, Arc<str>>,
    /// Files larger than this are not read.
    max_file_size: u64,
}

/// What is remembered of a module once parsed: the local folders it calls, its input errors.
struct Parsed {
    calls: Vec<PathBuf>,
    diagnostics: Vec<iamlint_core::Diagnostic>,
}

impl Workspace {
    /// `base` is the first file id this workspace gives out; `walked` are the Terraform files
    /// the walk found, which get ids in this order.
    pub fn new(base: u32, walked: &[PathBuf]) -> Self {
        Workspace::sharing(&Arc::new(AtomicU32::new(base)), walked)
    }

    /// A workspace giving out ids from `ids`, which other workspaces of the run share (each
    /// holds a part of the run); `walked` get the next ids in this order.
    pub fn sharing(ids: &FileIds, walked: &[PathBuf]) -> Self {
        let ws = Workspace {
            ids: Arc::clone(ids),
            files: Mutex::new(FileTable::default()),
            modules: Mutex::new(HashMap::new()),
            parsed: Mutex::new(HashMap::new()),
            overlay: HashMap::new(),
            max_file_size: MAX_FILE_BYTES,
        };
        ws.register(walked);
        ws
    }

    /// Gives the files at `paths` their ids now, in this order (a file that has one keeps it):
    /// files registered before a parallel analysis have the same ids relative to each other
    /// whatever order the threads read them in.
    pub fn register(&self, paths: &[PathBuf]) {
        let mut table = self.files.lock().unwrap_or_else(|e| e.into_inner());
        for path in paths {
            let path = normalize(path);
            if !table.by_path.contains_key(&path) {
                let id = self.ids.fetch_add(1, Ordering::Relaxed);
                table.push(path, id);
            }
        }
    }

    /// Reads these texts instead of the files at their paths (an editor's unsaved buffers);
    /// every other file comes from disk.
    pub fn with_overlay(mut self, overlay: &HashMap<PathBuf, Arc<str>>) -> Self {
        self.overlay = overlay
            .iter()
            .map(|(p, t)| (normalize(p), Arc::clone(t)))
            .collect();
        self
    }

    /// Files larger than `bytes` are not read (as if they could not be).
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    fn id_for(&self, path: &Path) -> (FileId, Option<Arc<SourceFile>>) {
        let mut table = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let id = match table.by_path.get(path) {
            Some(&id) => id,
            None => {
                let id = self.ids.fetch_add(1, Ordering::Relaxed);
                table.push(path.to_path_buf(), id);
                id
            }
        };
        (
            FileId(id),
            table.entries.get(&id).and_then(|e| e.file.clone()),
        )
    }

    /// Reads a file (once) and gives it its id. `None` when it cannot be read as text.
    pub fn read(&self, path: &Path) -> Option<Arc<SourceFile>> {
        let path = normalize(path);
        let (id, existing) = self.id_for(&path);
        if let Some(f) = existing {
            return Some(f);
        }
        let text: Arc<str> = match self.overlay.get(&path) {
            Some(text) => Arc::clone(text),
            None => {
                let meta = std::fs::metadata(&path).ok()?;
                if !meta.is_file() || meta.len() > self.max_file_size {
                    return None;
                }
                std::fs::read_to_string(&path).ok()?.into()
            }
        };
        let file = Arc::new(SourceFile::new(id, path.clone(), text));
        let mut table = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let entry = table.entries.get_mut(&id.0)?;
        Some(Arc::clone(entry.file.get_or_insert(file)))
    }

    pub fn get(&self, id: FileId) -> Option<Arc<SourceFile>> {
        let table = self.files.lock().unwrap_or_else(|e| e.into_inner());
        table.entries.get(&id.0).and_then(|e| e.file.clone())
    }

    /// The input errors of every module parsed (each module once, however many units use it
    /// and however often it was parsed).
    pub fn parse_diagnostics(&self) -> Vec<iamlint_core::Diagnostic> {
        let parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = parsed
            .values()
            .flat_map(|m| m.diagnostics.iter().cloned())
            .collect();
        out.sort_by_key(|d| d.span);
        out
    }

    /// The module in `dir` (parsed once, and kept until [`Workspace::release`]). `None` when
    /// the folder has no Terraform files.
    pub fn module(&self, dir: &Path) -> Option<Arc<Module>> {
        let dir = normalize(dir);
        if let Some(m) = self
            .modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&dir)
        {
            return Some(Arc::clone(m));
        }
        let module = self.parse(&dir)?;
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        Some(Arc::clone(modules.entry(dir).or_insert(module)))
    }

    /// Parses the module in `dir` to learn what it calls and its input errors, without keeping
    /// it; whether the folder has Terraform files. Finding the roots of a large tree this way
    /// keeps only what is needed in memory; each root parses its modules again when analysed.
    pub fn scan(&self, dir: &Path) -> bool {
        let dir = normalize(dir);
        if self
            .parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&dir)
        {
            return true;
        }
        let found = self.parse(&dir).is_some();
        // Nor its files' texts: a unit reads them again ([`Workspace::file`]).
        if !self
            .modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&dir)
        {
            self.drop_texts(&dir);
        }
        found
    }

    /// The local module folders the module in `dir` calls (parsing it when it has not been).
    pub fn local_calls(&self, dir: &Path) -> Vec<PathBuf> {
        let dir = normalize(dir);
        if !self.scan(&dir) {
            return Vec::new();
        }
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&dir)
            .map(|p| p.calls.clone())
            .unwrap_or_default()
    }

    /// Drops the parsed module of `dir` and the texts of the files in that folder (a later
    /// [`Workspace::module`] or [`Workspace::read`] reads them again, with the same ids). The
    /// caller keeps the files its findings point into.
    pub fn release(&self, dir: &Path) {
        let dir = normalize(dir);
        self.modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&dir);
        self.drop_texts(&dir);
    }

    /// Drops the texts of the files in (normalised) `dir`.
    fn drop_texts(&self, dir: &Path) {
        let mut table = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let FileTable {
            entries, by_dir, ..
        } = &mut *table;
        for id in by_dir.get(dir).map_or(&[][..], Vec::as_slice) {
            if let Some(e) = entries.get_mut(id) {
                e.file = None;
            }
        }
    }

    /// The first Terraform file the walk found in `dir` (for an error about the folder).
    pub fn first_file_in(&self, dir: &Path) -> Option<Arc<SourceFile>> {
        let id = {
            let table = self.files.lock().unwrap_or_else(|e| e.into_inner());
            FileId(*table.by_dir.get(&normalize(dir))?.first()?)
        };
        self.file(id)
    }

    /// A file by id, read again if its text was dropped.
    pub fn file(&self, id: FileId) -> Option<Arc<SourceFile>> {
        if let Some(file) = self.get(id) {
            return Some(file);
        }
        let path = {
            let table = self.files.lock().unwrap_or_else(|e| e.into_inner());
            table.entries.get(&id.0)?.path.clone()
        };
        self.read(&path)
    }

    fn parse(&self, dir: &Path) -> Option<Arc<Module>> {
        let paths = module_files(dir);
        if paths.is_empty() {
            return None;
        }
        let files: Vec<Arc<SourceFile>> = paths.iter().filter_map(|p| self.read(p)).collect();
        let module = Arc::new(Module::parse(dir, files));
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        parsed.entry(dir.to_path_buf()).or_insert_with(|| Parsed {
            calls: module
                .local_sources()
                .into_iter()
                .filter(|s| s.as_path() != dir)
                .collect(),
            diagnostics: module.diagnostics.clone(),
        });
        Some(module)
    }
}

/// The Terraform files of the module in (normalised) `dir`, sorted: every `.tf` and `.tf.json`
/// file of the folder, as Terraform reads them.
pub fn module_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_terraform_file(p) && p.is_file())
        .collect();
    paths.sort();
    paths
}

/// `.tf` and `.tf.json` files.
pub fn is_terraform_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// The loader of one unit: local sources relative to the calling module, registry and git
/// sources through `.terraform/modules/modules.json` of the root module when `terraform init`
/// has written it.
pub struct Unit<'w> {
    pub ws: &'w Workspace,
    pub root: PathBuf,
    downloaded: Option<HashMap<String, PathBuf>>,
}

impl<'w> Unit<'w> {
    pub fn new(ws: &'w Workspace, root: &Path) -> Self {
        Unit {
            ws,
            root: root.to_path_buf(),
            downloaded: read_modules_json(root),
        }
    }
}

/// `.terraform/modules/modules.json`: `{"Modules": [{"Key": "api.lambda", "Dir": "..."}]}`,
/// keys being the call path of module names, dirs relative to the root module.
fn read_modules_json(root: &Path) -> Option<HashMap<String, PathBuf>> {
    let text = std::fs::read_to_string(root.join(".terraform/modules/modules.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mut out = HashMap::new();
    for m in json.get("Modules")?.as_array()? {
        let (Some(k), Some(d)) = (
            m.get("Key").and_then(|k| k.as_str()),
            m.get("Dir").and_then(|d| d.as_str()),
        ) else {
            continue;
        };
        out.insert(k.to_string(), root.join(d));
    }
    Some(out)
}

impl UnitLoader for Unit<'_> {
    fn module(
        &self,
        caller: &Module,
        call_name: &str,
        source: &str,
        caller_prefix: &str,
    ) -> Option<Arc<Module>> {
        if is_local_source(source) {
            return self.ws.module(&caller.dir.join(source));
        }
        // The call path without instance keys: `module.a["x"].module.b.` → `a.b`.
        let mut key: Vec<String> = caller_prefix
            .split("module.")
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.trim_end_matches('.')
                    .split('[')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        key.push(call_name.to_string());
        let dir = self.downloaded.as_ref()?.get(&key.join("."))?;
        self.ws.module(dir)
    }

    fn read_file(&self, path: &Path) -> Option<Arc<SourceFile>> {
        self.ws.read(path)
    }

    fn source(&self, id: FileId) -> Option<Arc<SourceFile>> {
        self.ws.get(id)
    }
}

/// The root modules among `dirs` (folders with Terraform files): those no other folder of
/// the set calls as a local module. Folders in `always` are roots whatever calls them.
pub fn root_modules(ws: &Workspace, dirs: &[PathBuf], always: &[PathBuf]) -> Vec<PathBuf> {
    let mut called = std::collections::HashSet::new();
    for d in dirs {
        called.extend(ws.local_calls(d));
    }
    let always: std::collections::HashSet<&PathBuf> = always.iter().collect();
    let mut roots: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| always.contains(d) || !called.contains(&normalize(d)))
        .cloned()
        .collect();
    roots.sort();
    roots.dedup();
    roots
}
