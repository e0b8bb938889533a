//! `cargo xtask images`: provide every image a stack needs on this machine. The service image is
//! built from the workspace; a third-party image is used when present, pulled when a registry
//! answers, and otherwise replaced by an offline stand-in built from Debian packages
//! ([`crate::standin`]). Existing images are kept unless a rebuild is asked for.
//!
//! What has to be done is decided first, then what it needs is checked (debootstrap, root, a
//! mirror) before anything long starts; the service image's cargo build (CPU) runs beside the
//! debootstrap (mostly network and disk).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cdb_core::image::ImageRef;

use crate::config::{ImagesConfig, PullPolicy};
use crate::docker::{Docker, LocalImages};
use crate::errors::{Error, Result};
use crate::paper;
use crate::plan::{ImageNeed, Role};
use crate::process;
use crate::standin::{self, StandinKind};

/// Options of one run (the command line's, over `[images]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImagesOptions {
    /// Rebuild the images this crate builds even when present.
    pub rebuild: bool,
    /// Overrides `[images] pull`.
    pub pull: Option<PullPolicy>,
}

/// One timed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The image (or group of stand-ins) it was for.
    pub image: String,
    /// What was done (`docker pull`, `debootstrap`, `docker build`, …).
    pub action: String,
    /// How long it took.
    pub duration: Duration,
    /// What came of it, when there is something to say.
    pub detail: Option<String>,
}

/// What was done for one image.
#[derive(Debug)]
pub enum Outcome {
    /// It was present already.
    Present,
    /// It was pulled.
    Pulled,
    /// It was built from the workspace.
    Built,
    /// Its stand-in (the tag) was present already.
    StandinPresent(String),
    /// Its stand-in (the tag) was built.
    StandinBuilt(String),
    /// No image can be provided on this machine (why).
    Unavailable(String),
    /// Providing it failed.
    Failed(Error),
}

impl Outcome {
    /// A few words for the summary.
    pub fn label(&self) -> String {
        match self {
            Outcome::Present => "present".into(),
            Outcome::Pulled => "pulled".into(),
            Outcome::Built => "built".into(),
            Outcome::StandinPresent(tag) => format!("stand-in present: {tag}"),
            Outcome::StandinBuilt(tag) => format!("built stand-in: {tag}"),
            Outcome::Unavailable(why) => format!("UNAVAILABLE: {why}"),
            Outcome::Failed(e) => format!("FAILED: {e}"),
        }
    }
}

/// The result for one image.
#[derive(Debug)]
pub struct ImageReport {
    /// The need.
    pub need: ImageNeed,
    /// What was done.
    pub outcome: Outcome,
    /// Something worth knowing beside the outcome (a failed pull before a stand-in).
    pub note: Option<String>,
    /// The time of the steps done for it (a shared debootstrap counts for each of its images).
    pub duration: Duration,
}

/// The result of a run.
#[derive(Debug)]
pub struct Report {
    /// One per need.
    pub images: Vec<ImageReport>,
    /// Every step, in the order they finished.
    pub steps: Vec<Step>,
    /// Wall time of the run.
    pub total: Duration,
}

impl Report {
    /// The images whose providing failed.
    pub fn failed(&self) -> impl Iterator<Item = &ImageReport> {
        self.images
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Failed(_)))
    }

    /// The images that cannot be provided here; `default_only`: only those the default profile
    /// (services without profiles) needs.
    pub fn unavailable(&self, default_only: bool) -> impl Iterator<Item = &ImageReport> {
        self.images.iter().filter(move |i| {
            matches!(i.outcome, Outcome::Unavailable(_))
                && (!default_only || i.need.in_default_profile)
        })
    }
}

/// Something that happened, for live output.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A long step starts.
    Started {
        /// The image.
        image: &'a str,
        /// What.
        action: &'a str,
    },
    /// A step finished.
    Finished(&'a Step),
}

/// Records a finished step: image, action, duration, detail.
type RecordFn<'a> = dyn Fn(&str, &str, Duration, Option<String>) + Sync + 'a;

enum Plan {
    Done(Outcome, Option<String>),
    BuildWorkspace,
    BuildStandin(StandinKind, Option<String>),
}

/// Provides every image of `needs` (see the module docs). `root` is the folder of `cdb.toml`.
/// Errors are the ones that stop everything (no engine, no debootstrap); a failure of one
/// image is its [`Outcome::Failed`].
pub fn provide(
    root: &Path,
    config: &ImagesConfig,
    needs: &[ImageNeed],
    docker: &Docker,
    options: &ImagesOptions,
    progress: &(dyn Fn(&Progress<'_>) + Sync),
) -> Result<Report> {
    let started = Instant::now();
    docker.engine_version()?;
    let local = docker.local_images()?;
    let pull = options.pull.unwrap_or(config.pull);
    let fingerprint = crate::paper::source_fingerprint(root, config);
    let steps: Mutex<Vec<Step>> = Mutex::new(Vec::new());
    let record = |image: &str, action: &str, duration: Duration, detail: Option<String>| {
        let step = Step {
            image: image.to_string(),
            action: action.to_string(),
            duration,
            detail,
        };
        progress(&Progress::Finished(&step));
        if let Ok(mut s) = steps.lock() {
            s.push(step);
        }
    };

    // Decide, pulling what can be pulled on the way.
    let mut unreachable: BTreeMap<String, String> = BTreeMap::new();
    let mut plans = Vec::with_capacity(needs.len());
    for need in needs {
        plans.push(decide(
            need,
            &local,
            config,
            options,
            pull,
            docker,
            &mut unreachable,
            progress,
            &record,
            fingerprint.as_deref(),
        ));
    }

    // Check what the builds need before starting any.
    let kinds: BTreeSet<StandinKind> = plans
        .iter()
        .filter_map(|p| match p {
            Plan::BuildStandin(k, _) => Some(*k),
            _ => None,
        })
        .collect();
    let kinds: Vec<StandinKind> = kinds.into_iter().collect();
    let mirror = if kinds.is_empty() {
        None
    } else {
        Some(standin::preflight(config, &kinds)?)
    };
    let workspace_tags: BTreeSet<String> = needs
        .iter()
        .zip(&plans)
        .filter(|(_, p)| matches!(p, Plan::BuildWorkspace))
        .map(|(n, _)| n.default.clone())
        .collect();

    // Build: the workspace image(s) on one thread, the stand-ins on another.
    let (workspace_results, standin_results) = std::thread::scope(|scope| {
        let workspace = scope.spawn(|| {
            let mut rec = |i: &str, a: &str, d: Duration, x: Option<String>| record(i, a, d, x);
            workspace_tags
                .iter()
                .map(|tag| {
                    progress(&Progress::Started {
                        image: tag,
                        action: "cargo build + docker build",
                    });
                    (
                        tag.clone(),
                        paper::build(root, config, docker, tag, &mut rec),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        });
        let mut rec = |i: &str, a: &str, d: Duration, x: Option<String>| record(i, a, d, x);
        let mut built: BTreeMap<StandinKind, Result<standin::BuiltStandin>> = BTreeMap::new();
        if let Some(mirror) = &mirror {
            let groups: Vec<Vec<StandinKind>> = if config.shared_rootfs {
                vec![kinds.clone()]
            } else {
                kinds.iter().map(|k| vec![*k]).collect()
            };
            for group in groups {
                let names = group.iter().map(|k| k.name()).collect::<Vec<_>>().join("+");
                progress(&Progress::Started {
                    image: &names,
                    action: "debootstrap + docker import + docker build",
                });
                built.extend(standin::build_group(
                    root, config, docker, mirror, &group, &mut rec,
                ));
            }
        }
        let workspace = workspace.join().unwrap_or_default();
        (workspace, built)
    });
    let mut workspace_results = workspace_results;
    let mut standin_results = standin_results;

    let steps = steps.into_inner().unwrap_or_default();
    let images = needs
        .iter()
        .zip(plans)
        .map(|(need, plan)| {
            let (outcome, note) = match plan {
                Plan::Done(outcome, note) => (outcome, note),
                Plan::BuildWorkspace => match workspace_results.remove(&need.default) {
                    Some(Ok(())) => (Outcome::Built, None),
                    Some(Err(e)) => (Outcome::Failed(e), None),
                    // Another need with the same tag took the result.
                    None => (Outcome::Built, None),
                },
                Plan::BuildStandin(kind, note) => match standin_results.remove(&kind) {
                    Some(Ok(b)) => (Outcome::StandinBuilt(b.tag), note),
                    Some(Err(e)) => (Outcome::Failed(e), note),
                    None => (Outcome::StandinBuilt(String::new()), note),
                },
            };
            let duration = steps
                .iter()
                .filter(|s| step_concerns(s, need, &outcome))
                .map(|s| s.duration)
                .sum();
            ImageReport {
                need: need.clone(),
                outcome,
                note,
                duration,
            }
        })
        .collect();
    Ok(Report {
        images,
        steps,
        total: started.elapsed(),
    })
}

fn step_concerns(step: &Step, need: &ImageNeed, outcome: &Outcome) -> bool {
    if step.image == need.default || step.image == need.resolved {
        return true;
    }
    match (need.role, outcome) {
        (
            Role::ThirdParty {
                standin: Some(kind),
            },
            Outcome::StandinBuilt(_) | Outcome::Failed(_),
        ) => step.image == kind.name() || step.image.split('+').any(|n| n == kind.name()),
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn decide(
    need: &ImageNeed,
    local: &LocalImages,
    config: &ImagesConfig,
    options: &ImagesOptions,
    pull: PullPolicy,
    docker: &Docker,
    unreachable: &mut BTreeMap<String, String>,
    progress: &(dyn Fn(&Progress<'_>) + Sync),
    record: &RecordFn<'_>,
    fingerprint: Option<&str>,
) -> Plan {
    // The user chose this image: use it, or pull it; never replace it.
    if need.chosen_by_user() {
        let variable = need.variable.as_deref().unwrap_or("the environment");
        if local.has(&need.resolved) {
            return Plan::Done(Outcome::Present, Some(format!("chosen by {variable}")));
        }
        if pull != PullPolicy::Never {
            match try_pull(
                &need.resolved,
                config,
                docker,
                unreachable,
                progress,
                record,
            ) {
                Ok(()) => {
                    return Plan::Done(Outcome::Pulled, Some(format!("chosen by {variable}")));
                }
                Err(why) => {
                    return Plan::Done(
                        Outcome::Unavailable(format!(
                            "{} (chosen by {variable}) is not present and {why}",
                            need.resolved
                        )),
                        None,
                    );
                }
            }
        }
        return Plan::Done(
            Outcome::Unavailable(format!(
                "{} (chosen by {variable}) is not present and pulling is off",
                need.resolved
            )),
            None,
        );
    }
    if need.role == Role::Workspace {
        let image = local.find(&need.default);
        let built_by_us = image.is_some_and(|i| i.labels.contains_key("dev.cdb.built-by"));
        let current = image.and_then(|i| i.labels.get(crate::paper::LABEL_FINGERPRINT));
        return match (image, current, fingerprint) {
            // No sources here to build from (a project that only runs the stack): a present
            // image is used as it is, an absent one cannot be made.
            (Some(_), _, None) => Plan::Done(
                Outcome::Present,
                Some(format!(
                    "no crates/{} here to build it from; used as it is",
                    config.paper_package
                )),
            ),
            (None, _, None) => Plan::Done(
                Outcome::Unavailable(format!(
                    "it is not present and there is no crates/{} here to build it from",
                    config.paper_package
                )),
                None,
            ),
            _ if options.rebuild => Plan::BuildWorkspace,
            (Some(_), Some(built), Some(now)) if built == now => Plan::Done(Outcome::Present, None),
            // Built by hand or by another tool: not ours to judge, used as it is.
            (Some(_), None, _) if !built_by_us => Plan::Done(Outcome::Present, None),
            // Absent, or ours and built from other sources: (re)built.
            _ => Plan::BuildWorkspace,
        };
    }
    let present = local.has(&need.default);
    let mut note = None;
    if present && pull != PullPolicy::Always {
        return Plan::Done(Outcome::Present, None);
    }
    if pull != PullPolicy::Never {
        match try_pull(&need.default, config, docker, unreachable, progress, record) {
            Ok(()) => return Plan::Done(Outcome::Pulled, None),
            Err(why) if present => {
                return Plan::Done(Outcome::Present, Some(format!("refresh failed: {why}")));
            }
            Err(why) => note = Some(why),
        }
    }
    let Role::ThirdParty { standin } = need.role else {
        return Plan::Done(Outcome::Unavailable("unknown role".into()), note);
    };
    let Some(kind) = standin else {
        let why = match ImageRef::parse(&need.default) {
            Ok(r) if r.path() == "grafana/grafana" => {
                "no registry answered and there is no offline stand-in: Debian does not package Grafana, so the services that use it cannot start here"
                    .to_string()
            }
            _ => "no registry answered and there is no offline stand-in for it".to_string(),
        };
        return Plan::Done(Outcome::Unavailable(why), note);
    };
    if need.variable.is_none() {
        return Plan::Done(
            Outcome::Unavailable(format!(
                "its image is not written as ${{VARIABLE:-{}}}, so Compose cannot be pointed at a stand-in",
                need.default
            )),
            note,
        );
    }
    match local.standin(kind.name(), &config.suite, &config.standin_prefix) {
        Some(tag) if !options.rebuild => Plan::Done(Outcome::StandinPresent(tag), note),
        _ => Plan::BuildStandin(kind, note),
    }
}

/// `docker pull`, bounded by `pull_timeout_secs`; after a registry failed once, later pulls
/// from it are not tried (the reason is repeated).
fn try_pull(
    reference: &str,
    config: &ImagesConfig,
    docker: &Docker,
    unreachable: &mut BTreeMap<String, String>,
    progress: &(dyn Fn(&Progress<'_>) + Sync),
    record: &RecordFn<'_>,
) -> std::result::Result<(), String> {
    let domain = ImageRef::parse(reference)
        .map(|r| r.domain().to_string())
        .unwrap_or_default();
    if let Some(why) = unreachable.get(&domain) {
        return Err(format!(
            "not pulled: the registry failed just before ({why})"
        ));
    }
    progress(&Progress::Started {
        image: reference,
        action: "docker pull",
    });
    let start = Instant::now();
    let mut cmd = docker.command();
    cmd.args(["pull", "--quiet", reference]);
    let timeout = Duration::from_secs(config.pull_timeout_secs.max(1));
    let result = match process::run_with_timeout(&mut cmd, Some(timeout)) {
        Ok(Some(c)) if c.status.success() => Ok(()),
        Ok(Some(c)) => Err(format!(
            "the pull failed: {}",
            c.combined().lines().last().unwrap_or("").trim()
        )),
        Ok(None) => Err(format!(
            "the pull did not finish within {} s",
            timeout.as_secs()
        )),
        Err(e) => Err(format!("the pull could not run: {e}")),
    };
    record(
        reference,
        "docker pull",
        start.elapsed(),
        Some(match &result {
            Ok(()) => "pulled".to_string(),
            Err(why) => why.clone(),
        }),
    );
    if let Err(why) = &result {
        unreachable.insert(domain, why.clone());
    }
    result
}
