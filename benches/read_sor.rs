//! Benchmark: SOR XML read throughput. Generates a national-scale SOR XML export in memory
//! (>= 100 MB, nesting and content modelled on the real samples: IE > SI > OE > OE..., addresses,
//! virtual addresses, EAN entities, clinical specialities), then times `read_sor_xml` (parse,
//! checks and inheritance) on one core, best of 3, and prints MB/s.
//!
//! Run: `cargo bench --bench read_sor` (optionally `-- <target MB>`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use sorsync::domain::{Ean, SorId};
use sorsync::sources::sor_xml::read_sor_xml;

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SorTree xmlns:xkom-1="http://rep.oio.dk/xkom.dk/xml/schemas/2006/01/06/"
         xmlns:dkcc="http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/"
         xmlns:dkcc2005="http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/"
         xmlns:xkom="http://rep.oio.dk/xkom.dk/xml/schemas/2005/03/15/"
         xmlns="urn:oio:sundhedsstyrelsen:organisation:1.0.0">
	<CreatedAtTime>2025-01-06T00:00:00+01:00</CreatedAtTime>
	<SnapshotDate>2025-01-06</SnapshotDate>
"#;

const STREETS: [&str; 8] =
    ["Hestetorvet", "Køgevej", "Vesterbrogade", "Algade", "Rådhusbuen", "Søndre Ringvej", "Æblehaven", "Bakkevej"];
const TOWNS: [(&str, &str); 6] = [
    ("4000", "Roskilde"),
    ("3250", "Gilleleje"),
    ("2100", "København Ø"),
    ("8000", "Aarhus C"),
    ("5000", "Odense C"),
    ("9000", "Aalborg"),
];
const NAMES: [&str; 8] = [
    "Plejecenter",
    "Hjemmeplejen",
    "Sundhedsplejen",
    "Tandplejen",
    "Genoptræning",
    "Bosted",
    "Afsnit",
    "Øjenklinik, beh. afsnit",
];

/// Deterministic xorshift, so every run reads the same file.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Generator {
    out: String,
    rng: Rng,
    next_id: u64,
    next_ean: u64,
    units: usize,
}

impl Generator {
    fn id(&mut self) -> SorId {
        self.next_id += 1;
        SorId::from_running_number(self.next_id)
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push('\t');
        }
    }

    fn line(&mut self, depth: usize, text: &str) {
        self.indent(depth);
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn ean_entity(&mut self, d: usize) {
        self.next_ean += 1;
        let ean = Ean::from_body(579_000_000_000 + self.next_ean);
        self.line(d, "<EanLocationCodeEntity>");
        self.line(d + 1, &format!("<EanLocationCode>{ean}</EanLocationCode>"));
        self.line(d + 1, "<OnlyInternalIndicator>false</OnlyInternalIndicator>");
        self.line(d + 1, "<NonActiveIndicator>false</NonActiveIndicator>");
        self.line(d + 1, "<SystemSupplier>641000055002</SystemSupplier>");
        self.line(d + 1, "<SystemType>1611000045003</SystemType>");
        self.line(d + 1, "<CommunicationSupplier>41000035001</CommunicationSupplier>");
        self.line(d + 1, "<RegionCode>1084</RegionCode>");
        self.line(d + 1, "<EdiAdministrator>116</EdiAdministrator>");
        self.status(d + 1, false);
        self.line(d, "</EanLocationCodeEntity>");
    }

    fn address(&mut self, d: usize, element: &str) {
        let street = STREETS[self.rng.below(STREETS.len() as u64) as usize];
        let (postcode, town) = TOWNS[self.rng.below(TOWNS.len() as u64) as usize];
        let number = 1 + self.rng.below(120);
        self.line(d, &format!("<{element}>"));
        self.line(d + 1, "<xkom-1:AddressPostal>");
        self.line(d + 2, &format!("<dkcc2005:StreetName>{street}</dkcc2005:StreetName>"));
        self.line(d + 2, &format!("<dkcc:StreetBuildingIdentifier>{number}</dkcc:StreetBuildingIdentifier>"));
        if self.rng.below(3) == 0 {
            self.line(d + 2, "<dkcc:FloorIdentifier>2</dkcc:FloorIdentifier>");
            self.line(d + 2, "<dkcc:SuiteIdentifier>tv</dkcc:SuiteIdentifier>");
        }
        self.line(d + 2, &format!("<dkcc2005:PostCodeIdentifier>{postcode}</dkcc2005:PostCodeIdentifier>"));
        self.line(d + 2, &format!("<dkcc2005:DistrictName>{town}</dkcc2005:DistrictName>"));
        self.line(
            d + 2,
            r#"<dkcc:CountryIdentificationCode scheme="iso3166-alpha2">DK</dkcc:CountryIdentificationCode>"#,
        );
        self.line(d + 1, "</xkom-1:AddressPostal>");
        self.line(d, &format!("</{element}>"));
    }

    fn virtual_address(&mut self, d: usize, n: u64) {
        self.line(d, "<VirtualAddressInformation>");
        if n.is_multiple_of(2) {
            self.line(
                d + 1,
                &format!("<xkom:EmailAddressIdentifier>enhed{n}@kommune.dk</xkom:EmailAddressIdentifier>"),
            );
            self.line(d + 1, "<Website>www.kommune.dk</Website>");
        }
        self.line(d + 1, &format!("<TelephoneNumberIdentifier>4{:07}</TelephoneNumberIdentifier>", n % 10_000_000));
        self.line(d, "</VirtualAddressInformation>");
    }

    fn status(&mut self, d: usize, closed: bool) {
        self.line(d, "<SorStatus>");
        self.line(d + 1, "<FromDate>2009-10-08</FromDate>");
        if closed {
            self.line(d + 1, "<ToDate>2023-12-31</ToDate>");
        }
        self.line(d + 1, "<UpdatedAt>2024-05-01</UpdatedAt>");
        self.line(d + 1, "<FirstFromDate>2009-10-08</FirstFromDate>");
        self.line(d, "</SorStatus>");
    }

    fn owner(&mut self, d: usize, institutions: usize) {
        let id = self.id();
        self.units += 1;
        self.line(d, "<InstitutionOwnerEntity>");
        self.line(d + 1, "<InstitutionOwner>");
        self.line(d + 2, &format!("<SorIdentifier>{id}</SorIdentifier>"));
        self.line(d + 2, &format!("<EntityName>Kommune {}</EntityName>", self.next_id));
        self.line(d + 2, "<OwnerType>550891000005100</OwnerType>");
        self.ean_entity(d + 2);
        self.address(d + 2, "PostalAddressInformation");
        self.virtual_address(d + 2, self.next_id);
        self.status(d + 2, false);
        self.line(d + 1, "</InstitutionOwner>");
        for _ in 0..institutions {
            self.institution(d + 1);
        }
        self.line(d, "</InstitutionOwnerEntity>");
    }

    fn institution(&mut self, d: usize) {
        let id = self.id();
        self.units += 1;
        self.line(d, "<HealthInstitutionEntity>");
        self.line(d + 1, "<HealthInstitution>");
        self.line(d + 2, &format!("<SorIdentifier>{id}</SorIdentifier>"));
        self.line(d + 2, "<EntityName>Sundhed &amp; Ældre</EntityName>");
        self.line(d + 2, "<InstitutionType>22232009</InstitutionType>");
        self.line(d + 2, &format!("<ShakIdentifier>{}</ShakIdentifier>", 1000 + self.next_id % 9000));
        self.line(d + 2, "<OptionalEanLocationCode>");
        self.ean_entity(d + 3);
        self.line(d + 2, "</OptionalEanLocationCode>");
        self.line(d + 2, "<GeographicalParent>");
        self.line(d + 3, "<GeographicalParentRelation>1</GeographicalParentRelation>");
        self.line(d + 2, "</GeographicalParent>");
        self.address(d + 2, "VisitingAddressInformation");
        self.status(d + 2, false);
        self.line(d + 1, "</HealthInstitution>");
        let children = 20 + self.rng.below(20);
        for _ in 0..children {
            self.unit(d + 1, 1);
        }
        self.line(d, "</HealthInstitutionEntity>");
    }

    fn unit(&mut self, d: usize, level: usize) {
        let id = self.id();
        self.units += 1;
        let n = self.next_id;
        let name = NAMES[self.rng.below(NAMES.len() as u64) as usize];
        self.line(d, "<OrganizationalUnitEntity>");
        self.line(d + 1, "<OrganizationalUnit>");
        self.line(d + 2, &format!("<SorIdentifier>{id}</SorIdentifier>"));
        self.line(d + 2, &format!("<EntityName>{name} {n}</EntityName>"));
        self.line(d + 2, "<UnitType>550851000005109</UnitType>");
        self.line(d + 2, &format!("<ShakIdentifier>{}</ShakIdentifier>", 100_000 + n % 900_000));
        self.line(d + 2, "<OptionalEanLocationCode>");
        if self.rng.below(4) == 0 {
            self.ean_entity(d + 3);
        } else {
            let inherited = self.rng.below(2) == 0;
            self.line(d + 3, &format!("<EntityInheritedIndicator>{inherited}</EntityInheritedIndicator>"));
        }
        self.line(d + 2, "</OptionalEanLocationCode>");
        self.line(d + 2, "<GeographicalParent>");
        self.line(d + 3, "<GeographicalParentRelation>2</GeographicalParentRelation>");
        self.line(d + 2, "</GeographicalParent>");
        if self.rng.below(2) == 0 {
            self.address(d + 2, "PostalAddressInformation");
        }
        if self.rng.below(4) == 0 {
            self.address(d + 2, "VisitingAddressInformation");
        }
        if self.rng.below(2) == 0 {
            self.virtual_address(d + 2, n);
        }
        self.line(d + 2, "<ClinicalSpecialityCollection>");
        self.line(d + 3, "<ClinicalSpeciality>");
        self.line(d + 4, "<SpecialityCode>394594003</SpecialityCode>");
        self.line(d + 4, "<SpecialityType>51000095001</SpecialityType>");
        self.line(d + 3, "</ClinicalSpeciality>");
        self.line(d + 2, "</ClinicalSpecialityCollection>");
        let closed = self.rng.below(10) == 0;
        self.status(d + 2, closed);
        self.line(d + 2, "<OrganizationalUnitInformation>");
        self.line(d + 3, "<AmbulantActivityIndicator>true</AmbulantActivityIndicator>");
        self.line(d + 3, "<PatientsAdmittedIndicator>false</PatientsAdmittedIndicator>");
        self.line(d + 3, "<ReportingLevelIndicator>true</ReportingLevelIndicator>");
        self.line(d + 2, "</OrganizationalUnitInformation>");
        self.line(d + 1, "</OrganizationalUnit>");
        if level < 4 {
            let children = match level {
                1 => self.rng.below(4),
                2 => self.rng.below(3),
                _ => self.rng.below(2),
            };
            for _ in 0..children {
                self.unit(d + 1, level + 1);
            }
        }
        self.line(d, "</OrganizationalUnitEntity>");
    }
}

/// A SOR XML export of at least `target_bytes`, with a BOM like the real files.
fn generate(target_bytes: usize) -> (String, usize) {
    let mut g = Generator {
        out: String::with_capacity(target_bytes + target_bytes / 10),
        rng: Rng(0x5eed_1234_abcd),
        next_id: 1000,
        next_ean: 0,
        units: 0,
    };
    g.out.push('\u{feff}');
    g.out.push_str(HEADER);
    while g.out.len() < target_bytes {
        let institutions = 1 + g.rng.below(5) as usize;
        g.owner(1, institutions);
    }
    let _ = writeln!(g.out, "</SorTree>");
    (g.out, g.units)
}

fn main() {
    let target_mb: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(120);
    let started = Instant::now();
    let (xml, units) = generate(target_mb * 1_000_000);
    let mb = xml.len() as f64 / 1e6;
    println!("generated {mb:.1} MB, {units} SOR units, in {:.1} s", started.elapsed().as_secs_f64());

    let path = Path::new("generated-sor.xml");
    let mut best = f64::INFINITY;
    for run in 1..=3 {
        let t = Instant::now();
        let tree = match read_sor_xml(path, xml.as_bytes()) {
            Ok(tree) => tree,
            Err(e) => {
                eprintln!("the generated file did not read: {e}");
                std::process::exit(1);
            }
        };
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(tree.len(), units, "every generated unit is read");
        println!("run {run}: {secs:.3} s, {:.0} MB/s", mb / secs);
        best = best.min(secs);
        drop(tree);
    }
    println!("read_sor_xml: best of 3: {:.0} MB/s ({mb:.1} MB, {units} units, {best:.3} s)", mb / best);
}
