//! `sorsync fixtures generate`: realistic generated municipalities (FK-ORG, SOR, ground truth).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::Context;
use crate::generate::municipalities::{first_n, Municipality};
use crate::generate::output::write_set;
use crate::generate::{GeneratorConfig, Profile, RatesFile};

#[derive(Debug, Subcommand)]
pub enum FixturesCommand {
    /// Generate municipalities: per municipality DIR/<kommunekode>/fkorg.json (FK-ORG GraphQL pages),
    /// sor.xml (SOR XML 1.0.0), truth.csv (fk_uuid;sor_id pairs that are the same unit) and
    /// expected.csv (a careful SOR administrator's decision per unit), plus DIR/sor-national.xml
    /// and DIR/manifest.json.
    ///
    /// Example: `sorsync fixtures generate --municipalities 98 --seed 7 --out /tmp/national`
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many municipalities: the four pilots (101, 851, 320, 370) first, then by kommunekode.
    #[arg(long, default_value_t = 98, value_name = "N")]
    pub municipalities: usize,
    /// Only these kommunekoder (comma-separated, e.g. 101,320). 999 is KOMBIT's example Korsbæk.
    /// Gives the same data for each as a full run with the same seed.
    #[arg(long, value_delimiter = ',', value_name = "CODE,CODE")]
    pub only: Vec<u16>,
    /// Seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Size multiplier: 1 gives about 150,000 FK-ORG and 20,000 SOR units nationally.
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub scale: f64,
    /// Multiplies every difference rate between the registers (0: structure only, 2: twice as messy).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub noise: f64,
    /// Also write a second snapshot some weeks later, with expected-changes.json per municipality.
    #[arg(long, value_name = "DIR2")]
    pub evolve: Option<PathBuf>,
    /// The snapshot date (YYYY-MM-DD); dates in the data are relative to it.
    #[arg(long, value_name = "DATE")]
    pub date: Option<NaiveDate>,
    /// Weeks between the snapshot and the evolved one (1..520).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=520))]
    pub weeks: u32,
    /// Individual rates from a TOML file with sections [rates], [users], [evolve] (field names as
    /// in manifest.json's "config"); what is left out keeps its default. --noise still multiplies.
    #[arg(long, value_name = "FILE")]
    pub rates: Option<PathBuf>,
    /// The noise profile: `standard` (the default) or `rough` (street abbreviations, SOR levels
    /// skipped and added, units renamed or moved in SOR, generic names, missing addresses and
    /// phones, small municipalities, new care homes under administrative levels). A --rates file
    /// overrides single rates of the chosen profile; `[rough]` sets the rough profile's own rates.
    #[arg(long, default_value = "standard", value_parser = ["standard", "rough"])]
    pub profile: String,
}

/// The rates file read over the profile's defaults: a field the file leaves out keeps the
/// profile's value (not the standard one).
fn rates_over_profile(text: &str, profile: Profile) -> anyhow::Result<RatesFile> {
    let base = RatesFile {
        rates: profile.default_rates(),
        rough: GeneratorConfig::for_profile(profile).rough.unwrap_or_default(),
        ..RatesFile::default()
    };
    let toml::Value::Table(mut merged) = toml::Value::try_from(&base)? else {
        bail!("the profile's rates are not a table");
    };
    let file: toml::Table = toml::from_str(text)?;
    for (section, value) in file {
        match (merged.get_mut(&section), value) {
            (Some(toml::Value::Table(into)), toml::Value::Table(fields)) => into.extend(fields),
            (_, value) => {
                merged.insert(section, value);
            }
        }
    }
    Ok(toml::Value::Table(merged).try_into()?)
}

pub fn run(cmd: FixturesCommand, _ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        FixturesCommand::Generate(a) => generate(a),
    }
}

fn generate(a: GenerateArgs) -> anyhow::Result<ExitCode> {
    let municipalities: Vec<Municipality> = if a.only.is_empty() {
        first_n(a.municipalities)
    } else {
        let mut out = Vec::new();
        for code in &a.only {
            match Municipality::by_code(*code) {
                Some(m) => out.push(m),
                None => bail!("{code} is not a kommunekode we know (101..860, or 999 for Korsbæk)"),
            }
        }
        out
    };
    if municipalities.is_empty() {
        bail!("no municipalities chosen: use --municipalities 1..98 or --only CODE,CODE");
    }
    let profile = if a.profile == "rough" { Profile::Rough } else { Profile::Standard };
    let mut cfg =
        GeneratorConfig { seed: a.seed, scale: a.scale, noise: a.noise, ..GeneratorConfig::for_profile(profile) };
    if let Some(d) = a.date {
        use chrono::Datelike;
        if !(1990..=2200).contains(&d.year()) {
            bail!("--date {d} is out of range: use a date between 1990 and 2200");
        }
        cfg.snapshot_date = d;
    }
    if let Some(path) = &a.rates {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let r =
            rates_over_profile(&text, profile).with_context(|| format!("{} is not a rates file", path.display()))?;
        cfg.rates = r.rates;
        cfg.users = r.users;
        cfg.evolve = r.evolve;
        if profile == Profile::Rough {
            cfg.rough = Some(r.rough);
        }
    }
    cfg.evolve.weeks = a.weeks;
    let bar = indicatif::ProgressBar::new(municipalities.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (manifest, evolved) = write_set(&municipalities, &cfg, &a.out, a.evolve.as_deref(), |m| {
        bar.inc(1);
        bar.set_message(m.name);
    })
    .with_context(|| format!("generating into {}", a.out.display()))?;
    bar.finish_and_clear();
    let t = &manifest.totals;
    println!(
        "{} municipalities: {} FK-ORG units, {} users, {} SOR units, {} truth pairs -> {}",
        t.municipalities,
        t.fk_units,
        t.fk_users,
        t.sor_units,
        t.truth_pairs,
        a.out.display()
    );
    if let (Some(e), Some(dir)) = (evolved, a.evolve.as_ref()) {
        let changes: usize = e.municipalities.iter().filter_map(|m| m.expected_changes).sum();
        println!("evolved snapshot: {changes} expected changes -> {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
