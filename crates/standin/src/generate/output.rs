//! Writes a generated set to disk: per municipality `fkorg.json`, `sor.xml`, `truth.csv`, `expected.csv`
//! (and `expected-changes.json` in an evolved set), plus the national `sor-national.xml` and
//! `manifest.json`. Files are streamed through buffered writers.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::evolve::{evolve, ExpectedChange};
use super::expected;
use super::{
    fkorg_writer, generate_municipality, sor_writer, DifferenceStats, GeneratedMunicipality, GeneratorConfig,
    Municipality, RoughStats,
};

/// A file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("scale {0} is out of range: use a number above 0 and at most {max}", max = super::MAX_SCALE)]
    Scale(f64),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io { path: path.to_path_buf(), source }
}

/// One municipality in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub kommunekode: String,
    pub name: String,
    pub cvr: String,
    pub fk_units: usize,
    pub fk_users: usize,
    pub sor_units: usize,
    pub truth_pairs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_changes: Option<usize>,
    pub differences: DifferenceStats,
    /// The rough profile's differences (left out in the standard profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rough_differences: Option<RoughStats>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub municipalities: usize,
    pub fk_units: usize,
    pub fk_users: usize,
    pub sor_units: usize,
    pub truth_pairs: usize,
}

/// What was generated (`manifest.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub generator: &'static str,
    pub snapshot_date: String,
    pub config: GeneratorConfig,
    pub totals: Totals,
    pub municipalities: Vec<ManifestEntry>,
}

fn create(path: &Path) -> Result<BufWriter<File>, GenerateError> {
    File::create(path).map(|f| BufWriter::with_capacity(1 << 16, f)).map_err(io_err(path))
}

fn entry(m: &GeneratedMunicipality, changes: Option<usize>) -> ManifestEntry {
    ManifestEntry {
        kommunekode: format!("{:03}", m.kommune.code),
        name: m.kommune.name.to_string(),
        cvr: m.cvr.to_string(),
        fk_units: m.fk_units.len(),
        fk_users: m.fk_users.len(),
        sor_units: m.sor_units.len(),
        truth_pairs: m.truth.len(),
        expected_changes: changes,
        differences: m.stats.clone(),
        rough_differences: m.rough_stats.clone(),
    }
}

/// An output directory being written: the national SOR file stays open while municipalities
/// are added.
struct SetWriter {
    dir: PathBuf,
    national: BufWriter<File>,
    national_path: PathBuf,
    entries: Vec<ManifestEntry>,
    totals: Totals,
}

impl SetWriter {
    fn new(dir: &Path, cfg_date: chrono::NaiveDate) -> Result<Self, GenerateError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let national_path = dir.join("sor-national.xml");
        let mut national = create(&national_path)?;
        sor_writer::write_header(&mut national, cfg_date).map_err(io_err(&national_path))?;
        Ok(SetWriter {
            dir: dir.to_path_buf(),
            national,
            national_path,
            entries: Vec::new(),
            totals: Totals::default(),
        })
    }

    fn add(
        &mut self,
        m: &GeneratedMunicipality,
        sor_entities: &[u8],
        changes: Option<&[ExpectedChange]>,
    ) -> Result<(), GenerateError> {
        let dir = self.dir.join(format!("{:03}", m.kommune.code));
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;

        let path = dir.join("fkorg.json");
        let mut w = create(&path)?;
        fkorg_writer::write_fkorg(&mut w, m, fkorg_writer::PAGE_SIZE).and_then(|_| w.flush()).map_err(io_err(&path))?;

        let path = dir.join("sor.xml");
        let mut w = create(&path)?;
        sor_writer::write_header(&mut w, m.snapshot_date)
            .and_then(|_| w.write_all(sor_entities))
            .and_then(|_| sor_writer::write_footer(&mut w))
            .and_then(|_| w.flush())
            .map_err(io_err(&path))?;
        self.national.write_all(sor_entities).map_err(io_err(&self.national_path))?;

        let path = dir.join("truth.csv");
        let mut w = create(&path)?;
        write_truth(&mut w, &m.truth).and_then(|_| w.flush()).map_err(io_err(&path))?;

        let path = dir.join("expected.csv");
        let mut w = create(&path)?;
        expected::write_expected(&mut w, &expected::expected_decisions(m))
            .and_then(|_| w.flush())
            .map_err(io_err(&path))?;

        if let Some(changes) = changes {
            let path = dir.join("expected-changes.json");
            let mut w = create(&path)?;
            serde_json::to_writer_pretty(&mut w, changes)
                .map_err(io::Error::from)
                .and_then(|_| w.write_all(b"\n"))
                .and_then(|_| w.flush())
                .map_err(io_err(&path))?;
        }
        self.entries.push(entry(m, changes.map(<[_]>::len)));
        self.totals.municipalities += 1;
        self.totals.fk_units += m.fk_units.len();
        self.totals.fk_users += m.fk_users.len();
        self.totals.sor_units += m.sor_units.len();
        self.totals.truth_pairs += m.truth.len();
        Ok(())
    }

    fn finish(mut self, cfg: &GeneratorConfig, date: chrono::NaiveDate) -> Result<Manifest, GenerateError> {
        sor_writer::write_footer(&mut self.national)
            .and_then(|_| self.national.flush())
            .map_err(io_err(&self.national_path))?;
        let manifest = Manifest {
            generator: "sorsync fixtures generate",
            snapshot_date: date.to_string(),
            config: cfg.clone(),
            totals: self.totals,
            municipalities: self.entries,
        };
        let path = self.dir.join("manifest.json");
        let mut w = create(&path)?;
        serde_json::to_writer_pretty(&mut w, &manifest)
            .map_err(io::Error::from)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|_| w.flush())
            .map_err(io_err(&path))?;
        Ok(manifest)
    }
}

/// Writes `fk_uuid;sor_id` rows with a header.
pub fn write_truth<W: Write>(w: &mut W, truth: &[(crate::domain::FkUuid, crate::domain::SorId)]) -> io::Result<()> {
    w.write_all(b"fk_uuid;sor_id\n")?;
    for (f, s) in truth {
        writeln!(w, "{f};{s}")?;
    }
    Ok(())
}

/// Generates `municipalities` and writes them under `out` (and the evolved snapshot under
/// `evolve_out` when given). Returns the manifest of `out` (and of `evolve_out`).
pub fn write_set(
    municipalities: &[Municipality],
    cfg: &GeneratorConfig,
    out: &Path,
    evolve_out: Option<&Path>,
    mut progress: impl FnMut(&Municipality),
) -> Result<(Manifest, Option<Manifest>), GenerateError> {
    if !(cfg.scale > 0.0 && cfg.scale <= super::MAX_SCALE) {
        return Err(GenerateError::Scale(cfg.scale));
    }
    let mut first = SetWriter::new(out, cfg.snapshot_date)?;
    let later_date = cfg.snapshot_date + chrono::Duration::days(i64::from(cfg.evolve.weeks.max(1)) * 7);
    let mut second = match evolve_out {
        Some(d) => Some(SetWriter::new(d, later_date)?),
        None => None,
    };
    let mut entities = Vec::with_capacity(1 << 20);
    for k in municipalities {
        progress(k);
        let m = generate_municipality(k, cfg);
        entities.clear();
        sor_writer::write_owner_entities(&mut entities, &m.sor_units, k.region().sor_region_code())
            .map_err(io_err(out))?;
        first.add(&m, &entities, None)?;
        if let Some(second) = second.as_mut() {
            let (later, changes) = evolve(&m, cfg);
            second.add(&later, &entities, Some(&changes))?;
        }
    }
    let a = first.finish(cfg, cfg.snapshot_date)?;
    let b = match second {
        Some(s) => Some(s.finish(cfg, later_date)?),
        None => None,
    };
    Ok((a, b))
}
