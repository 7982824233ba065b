//! `cairn serve`: open the data directory, make sure an account exists, and serve the endpoint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use cairn_model::{Clock, SystemClock};
use cairn_services::App;
use cairn_store::history::HistoryConsumer;
use cairn_store::identity::{AccessKey, IdentityStore};
use cairn_store::journal::{Consumer, Consumers, LEASE_TTL_MS, Leased, Leases, Serial};
use cairn_trail::delivery::Delivery;
use cairn_trail::digest::Digester;
use cairn_trail::sink::{ExternalBucket, RoutingSink};

use crate::DataDirArg;
use crate::datadir::DataDir;
use crate::open;
use crate::rounds::{spawn_nudged, spawn_rounds};
use cairn_services::cluster::Cluster;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Address to listen on. Use port 0 to pick a free port (the endpoint is printed and written
    /// to DIR/endpoint).
    #[arg(
        long,
        env = "CAIRN_LISTEN",
        default_value = "127.0.0.1:4566",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,
    /// The region `cairn env` tells clients to use. Clients may sign for any region; each call is
    /// recorded in the region it was signed for.
    #[arg(
        long,
        env = "CAIRN_REGION",
        default_value = "us-east-1",
        value_name = "REGION"
    )]
    pub region: String,
    /// How often trails deliver log files (AWS: about 5 minutes): seconds, or with a unit
    /// (`5m`, `2s`). At least 1 s.
    #[arg(long, env = "CAIRN_DELIVERY_INTERVAL", default_value = "60", value_name = "DURATION",
          value_parser = crate::duration::at_least(1))]
    pub delivery_interval: u64,
    /// The period of digest files for trails with log file validation (AWS: one hour):
    /// seconds, or with a unit (`1h`, `10s`). Shorter periods make a day of digests in
    /// minutes, for labs and tests.
    #[arg(long, env = "CAIRN_DIGEST_INTERVAL", default_value = "3600", value_name = "DURATION",
          value_parser = crate::duration::at_least(1))]
    pub digest_interval: u64,
    /// How long each digest signing key is valid (AWS: 30 days): seconds, or with a unit
    /// (`30d`, `1h`). A new key is made when a thirtieth of the window is left, so windows
    /// overlap as AWS's do. At least 2 s.
    #[arg(long, env = "CAIRN_SIGNING_KEY_VALIDITY", default_value = "2592000", value_name = "DURATION",
          value_parser = crate::duration::at_least(2))]
    pub signing_key_validity: u64,
    /// How many days back event history (LookupEvents) reaches; 0 keeps every event.
    #[arg(
        long,
        env = "CAIRN_HISTORY_RETENTION_DAYS",
        default_value_t = 90,
        value_name = "DAYS"
    )]
    pub history_retention_days: u32,
    /// Connections served at once; more wait in the listen backlog until one closes.
    #[arg(
        long,
        env = "CAIRN_MAX_CONNECTIONS",
        default_value_t = 4096,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_connections: u64,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        env = "CAIRN_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "CAIRN_TLS_KEY", value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Serve HTTPS with a certificate signed by a local CA kept in DIR/tls; `cairn env` points
    /// AWS_CA_BUNDLE at the CA's certificate so clients trust it.
    #[arg(long, env = "CAIRN_TLS_SELF_SIGNED")]
    pub tls_self_signed: bool,
    /// Run a test clock: wall time that `cairn clock advance` can jump forward, running the
    /// trail deliveries and digests that become due before it answers. For tests and labs;
    /// refused on non-loopback listeners.
    #[arg(long, env = "CAIRN_TEST_CLOCK")]
    pub test_clock: bool,
    /// Accept injected faults (`Cairn.InjectFault`, e.g. a failing journal disk), so tests can
    /// check that refused calls leave no trace. For tests only; refused on non-loopback
    /// listeners.
    #[arg(long, env = "CAIRN_TEST_FAULTS")]
    pub test_faults: bool,
    /// The Python interpreter `python3.x` Lambda functions run with (the configuration file's
    /// `[lambda] python`). Functions run as local processes, in a work directory under the
    /// system's temporary directory, each as a user of its own when cairn runs as root.
    #[arg(
        long,
        env = "CAIRN_LAMBDA_PYTHON",
        default_value = "python3",
        value_name = "PATH"
    )]
    pub lambda_python: std::path::PathBuf,
    /// Directories Python functions find after their own code on `PYTHONPATH`: the runtime's
    /// packages (boto3, awslambdaric), as `/var/runtime` holds them on AWS (the configuration
    /// file's `[lambda] python_path`). Colon-separated; they must be readable by the user
    /// functions run as.
    #[arg(
        long,
        env = "CAIRN_LAMBDA_PYTHON_PATH",
        value_name = "DIRS",
        value_delimiter = ':'
    )]
    pub lambda_python_path: Vec<std::path::PathBuf>,
    /// Run as a node of a cluster: every store in this PostgreSQL database
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`; the configuration file's `database`).
    /// Needs --object-store. Without it, everything is in the data directory.
    #[arg(
        long,
        env = "CAIRN_DATABASE",
        value_name = "URL",
        requires = "object_store"
    )]
    pub database: Option<String>,
    /// Where a cluster keeps object bodies: `s3://BUCKET[/PREFIX]` on an S3-compatible
    /// endpoint (the configuration file's `[object_store] url`). Its endpoint and credentials
    /// come from the `[[external_bucket]]` table of that name, or from AWS_ENDPOINT_URL,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.
    #[arg(
        long,
        env = "CAIRN_OBJECT_STORE",
        value_name = "URL",
        requires = "database"
    )]
    pub object_store: Option<String>,
    /// Forward calls for AWS services cairn does not implement to an AWS-compatible endpoint
    /// (moto_server, LocalStack), authenticating, authorizing and recording each: `URL` for
    /// every service cairn carries a model of (ec2, secretsmanager, ssm, dynamodb, config, rds,
    /// elasticloadbalancing, autoscaling, cloudformation, ecr, ecs, kinesis, acm, states,
    /// redshift, elasticache, cognito-idp, firehose, wafv2),
    /// `SERVICE=URL` for one. Repeatable (or comma-separated). Credentials for the upstream come
    /// from the configuration file's `[[upstream]]` table of the same URL, else `test`/`test`.
    #[arg(
        long,
        env = "CAIRN_UPSTREAM",
        value_name = "[SERVICE=]URL",
        value_delimiter = ','
    )]
    pub upstream: Vec<String>,
    /// A folder of Sigma rules for CloudTrail (`*.yml`, subfolders too) that the detection
    /// engine judges every recorded call with, beside cairn's own sets (CIS monitoring
    /// controls, Stratus Red Team techniques). Repeatable. Rules that use what the engine does
    /// not support are listed at startup with the reason, and skipped.
    #[arg(
        long,
        env = "CAIRN_SIGMA_RULES",
        value_name = "DIR",
        value_delimiter = ':'
    )]
    pub sigma_rules: Vec<std::path::PathBuf>,
    /// The gateway's upstreams, resolved from --upstream and `[[upstream]]`.
    #[arg(skip)]
    pub gateway: cairn_services::gateway::GatewayConfig,
    /// The object store's bucket, resolved from --object-store.
    #[arg(skip)]
    pub object_store_bucket: Option<cairn_store::objects::BodyBucket>,
    /// External buckets, from the configuration file's `[[external_bucket]]` tables.
    #[arg(skip)]
    pub external_buckets: Vec<ExternalBucket>,
    /// The bucket event data stores keep their files in, from the configuration file's `[lake]`.
    #[arg(skip)]
    pub lake_bucket: Option<cairn_lake::BucketConfig>,
}

const DAY_MS: i64 = 86_400_000;

/// The advisory lock under which a cluster's first account is made.
pub(crate) const FIRST_ACCOUNT_LOCK: i64 = 0x6361_6972_6e01;

/// Makes sure the data directory has an account; returns its root key and whether it is new.
pub fn ensure_account(
    identity: &dyn IdentityStore,
    now_ms: i64,
) -> anyhow::Result<(AccessKey, bool)> {
    if let Some(acct) = identity.accounts()?.into_iter().next() {
        let key = identity
            .root_key(&acct.id)?
            .with_context(|| format!("account {} has no active root access key", acct.id))?;
        return Ok((key, false));
    }
    let (_, key) = identity.create_account(now_ms)?;
    Ok((key, true))
}

pub fn export_block(
    endpoint: &str,
    key: &AccessKey,
    region: &str,
    ca_bundle: Option<&str>,
) -> String {
    let mut out = format!(
        "export AWS_ENDPOINT_URL={endpoint}\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_DEFAULT_REGION={region}\nexport CAIRN_ACCOUNT_ID={}\n",
        key.access_key_id, key.secret_access_key, key.account
    );
    if let Some(ca) = ca_bundle {
        out.push_str(&format!("export AWS_CA_BUNDLE={ca}\n"));
    }
    out
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&args.data_dir)?;
    dir.create()?;
    let _lock = dir.lock()?;
    if args.test_clock && !args.listen.ip().is_loopback() {
        bail!(
            "--test-clock moves this instance's time for anyone who can reach it: it is only allowed on a loopback address (127.0.0.1, ::1), not {}",
            args.listen
        );
    }
    if args.test_faults && !args.listen.ip().is_loopback() {
        bail!(
            "--test-faults lets anyone who can reach this instance break it: it is only allowed on a loopback address (127.0.0.1, ::1), not {}",
            args.listen
        );
    }
    let cluster = match (&args.database, &args.object_store_bucket) {
        (Some(database), Some(bodies)) => Some(Cluster::new(database, bodies.clone())),
        _ => None,
    };
    // A cluster's nodes share one test clock: time jumps for all of them at once.
    let test_clock = match (&cluster, args.test_clock) {
        (_, false) => None,
        (None, true) => Some(cairn_model::TestClock::new()),
        (Some(c), true) => Some(cairn_model::TestClock::shared(Arc::new(
            cairn_store::pg::clock::PgClockOffset::open(&c.database, &c.schema("cluster"))
                .context("opening the cluster's test clock")?,
        ))),
    };
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(c) => Arc::new(c.clone()),
        None => Arc::new(SystemClock),
    };
    let (stores, key, created) = open::open_node(&dir, cluster.as_ref(), clock.now_millis())?;
    let layout = open::layout(&dir);
    // A cluster's event data stores must be readable from every node: in the object store's
    // bucket unless `[lake]` names another.
    let lake_bucket = match (&args.lake_bucket, &cluster) {
        (Some(b), _) => Some(b.clone()),
        (None, Some(c)) => Some(lake_beside_bodies(&c.bodies)),
        (None, None) => None,
    };
    let mut lake = cairn_lake::Lake::open_with(&layout.lake(), lake_bucket.as_ref())
        .with_context(|| format!("opening the lake at {}", layout.lake().display()))?;
    // Every node writes the same stores' files: one at a time per store.
    if let Some(c) = &cluster {
        let locks = cairn_store::lake::PgFileLocks::open(&c.database, &c.schema("lake"))
            .context("opening the lake's store locks in the cluster's database")?;
        lake = lake.with_locks(Arc::new(locks));
    }
    let retention_ms = match args.history_retention_days {
        0 => None,
        d => Some(i64::from(d) * DAY_MS),
    };
    let (detection_rules, refused_rules, detection_line) = detection_rules(&args.sigma_rules)?;
    let native = cairn_services::registry();
    let native_names: Vec<&str> = native.iter().map(|s| s.signing_name()).collect();
    let forwarded = cairn_services::gateway::services(&args.gateway, &native_names)
        .context("configuring the gateway's upstreams")?;
    // One line per upstream: the services it answers.
    let mut forwarded_lines: Vec<(String, Vec<&str>)> = Vec::new();
    for g in &forwarded {
        let name = cairn_services::pipeline::Service::signing_name(g.as_ref());
        match forwarded_lines
            .iter_mut()
            .find(|(u, _)| u == g.upstream_url())
        {
            Some((_, names)) => names.push(name),
            None => forwarded_lines.push((g.upstream_url().to_owned(), vec![name])),
        }
    }
    let registry = native.with_services(
        forwarded
            .into_iter()
            .map(|g| g as Arc<dyn cairn_services::pipeline::registry::Endpoint>)
            .collect(),
    );
    let app = Arc::new(
        App::build(
            &stores,
            &layout,
            registry,
            cairn_services::app::Options {
                clock: Arc::clone(&clock),
                history_retention_ms: retention_ms,
                external_buckets: args.external_buckets.clone(),
                signing_key_validity_ms: Some(
                    i64::try_from(args.signing_key_validity).unwrap_or(i64::MAX / 2) * 1000,
                ),
                functions: Some(cairn_services::app::default_functions(&args.lambda_python)),
                functions_python_path: args.lambda_python_path.clone(),
                columnar: Some(Arc::new(lake)),
            },
        )
        .context("building the application")?,
    );

    let limits = cairn_services::edge::Limits {
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        ..Default::default()
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::from_files(cert, key)?),
        _ if args.tls_self_signed => {
            Some(crate::tls::self_signed(&dir.tls_dir(), args.listen.ip())?)
        }
        _ => None,
    };
    let ca_bundle = tls
        .as_ref()
        .and_then(|t| t.ca_bundle.as_ref())
        .map(|p| p.display().to_string());
    // Stores are called off the async runtime's threads (PostgreSQL's client blocks).
    let root_password_set = app.identity.has_root_password(&key.account).unwrap_or(true);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        // Taken before the port is bound: a SIGTERM as soon as the port answers (before the
        // startup output is written) still shuts the server down cleanly, after that output.
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let listener = listen(args.listen).with_context(|| format!("listening on {}", args.listen))?;
        let bound = listener.local_addr()?;
        let host = if bound.ip().is_unspecified() { "127.0.0.1".to_owned() } else { bound.ip().to_string() };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let endpoint = format!("{scheme}://{host}:{}", bound.port());
        write_endpoint_file(&dir, &endpoint, &args.region, ca_bundle.as_deref())?;
        // Functions' SDKs call cairn, so handler code written for AWS runs unchanged.
        app.functions.set_endpoint_url(endpoint.clone());

        println!("cairn {} — CloudTrail you can run yourself", env!("CARGO_PKG_VERSION"));
        println!("  endpoint:  {endpoint}");
        if let Some(ca) = &ca_bundle {
            println!("  TLS:       certificate signed by the local CA {ca}");
        } else if let Some(cert) = &args.tls_cert {
            println!("  TLS:       certificate {}", cert.display());
        } else if !bound.ip().is_loopback() {
            println!("  WARNING:   plain HTTP on a non-loopback address: anyone on the network path sees");
            println!("             signed requests and bodies. Use --tls-cert/--tls-key or --tls-self-signed.");
        }
        println!("  data dir:  {}", dir.root.display());
        println!("  account:   {} (root access key {})", key.account, key.access_key_id);
        println!("  region:    {} (clients may sign for any region)", args.region);
        println!("  delivery:  every {} s; digests every {} s", args.delivery_interval, args.digest_interval);
        if test_clock.is_some() {
            println!("  clock:     test clock: `cairn clock advance 1h` jumps it ahead and runs what became due");
        }
        if args.test_faults {
            println!("  faults:    --test-faults: Cairn.InjectFault may make this instance fail on purpose");
        }
        for b in &args.external_buckets {
            println!("  external bucket: {} at http://{} ({})", b.name, b.endpoint, b.region);
        }
        if let Some(c) = &cluster {
            println!("  cluster:   node {} on {} (database), bodies in s3://{}/{} at {}", stores.node, redacted(&c.database), c.bodies.bucket, c.bodies.prefix, c.bodies.endpoint);
        }
        if let Some(l) = &lake_bucket {
            let prefix = if l.prefix.is_empty() { String::new() } else { format!("/{}", l.prefix.trim_matches('/')) };
            println!("  lake:      event data stores' files in s3://{}{prefix}/ at {}", l.bucket, l.endpoint);
        }
        let functions = app.functions.config();
        let packages = if args.lambda_python_path.is_empty() {
            " (no --lambda-python-path: handlers find only what that Python has)".to_owned()
        } else {
            let dirs: Vec<String> = args.lambda_python_path.iter().map(|d| d.display().to_string()).collect();
            format!(" with {}", dirs.join(":"))
        };
        println!(
            "  functions: Python {}{packages}; run{} in {}",
            functions.python.display(),
            if functions.run_as.is_some() { " as a user of their own each" } else { "" },
            functions.work_root.display()
        );
        if functions.run_as.is_none() {
            println!("  WARNING:   cairn is not running as root, so functions run as this same user and can");
            println!("             read its data directory. Run cairn as root to run them unprivileged.");
        }
        match retention_ms {
            Some(_) => println!("  history:   {} days", args.history_retention_days),
            None => println!("  history:   kept forever"),
        }
        println!("  detection: {detection_line}");
        for r in &refused_rules {
            println!("             skipped {}: {}", r.path.display(), r.error);
        }
        for (url, names) in &forwarded_lines {
            println!("  gateway:   {url} answers {} (authorized by cairn's IAM, recorded)", names.join(", "));
        }
        println!("  console:   {endpoint}/console");
        if !root_password_set {
            println!("             (to sign in as root, set its password: cairn accounts set-password --data-dir {})", dir.root.display());
        }
        if created {
            println!();
            println!("Created account {}. Its root credentials (shown once here; `cairn env` prints them again):", key.account);
            print!("{}", export_block(&endpoint, &key, &args.region, ca_bundle.as_deref()));
        }
        println!();
        println!("Ready. In another shell:  eval \"$(cairn env --data-dir {})\"", dir.root.display());

        // Each consumer runs on one node at a time: always this one in the embedded mode.
        let runs = OneNode {
            leases: Arc::clone(&stores.leases),
            node: stores.node.clone(),
            clock: Arc::clone(&app.clock),
        };
        // CloudTrail writes into the embedded S3 through S3's API, as cloudtrail.amazonaws.com.
        let sink = RoutingSink {
            embedded: Arc::new(cairn_services::cloudtrail::delivery::TrailWrites::new(Arc::clone(&app))),
            external: (*app.external_buckets).clone(),
        };
        let sink: Arc<dyn cairn_trail::sink::LogSink> = Arc::new(sink);
        // Digests end a period once delivery has planned it: delivery says when it has.
        let planned = Arc::new(cairn_trail::digest::planned::PlannedUpTo::default());
        let delivery = Arc::new(Delivery {
            journal: app.journal.clone(),
            trails: Arc::clone(&app.trails),
            organizations: Arc::clone(&app.organizations),
            sink: Arc::clone(&sink),
            clock: Arc::clone(&app.clock),
            backoff: Default::default(),
            planned: Arc::clone(&planned),
        });
        let digests = Arc::new(Digester {
            trails: Arc::clone(&app.trails),
            organizations: Arc::clone(&app.organizations),
            keys: Arc::clone(&app.keys),
            sink,
            clock: Arc::clone(&app.clock),
            journal: app.journal.clone(),
            planned,
            interval_ms: i64::try_from(args.digest_interval).unwrap_or(i64::MAX / 2_000) * 1000,
        });
        // Every reader of the journal, in round order: history catches up, delivery writes log
        // files, digests list them. Purging stops at the slowest of their cursors. Each is
        // serialized: the periodic loops and the test clock never run one twice at once.
        // Trails with a log group: their records go to CloudWatch Logs through Logs' API, as
        // the role session CloudTrail assumed, each trail from its own cursor.
        let to_logs: Arc<dyn Consumer> = runs.of(cairn_trail::cwl::CwlDelivery {
            journal: app.journal.clone(),
            trails: Arc::clone(&app.trails),
            organizations: Arc::clone(&app.organizations),
            sink: Arc::new(cairn_services::cloudtrail::cwl_writes::LogsWrites::new(Arc::clone(&app))),
            clock: Arc::clone(&app.clock),
            backoff: Default::default(),
        });
        let history: Arc<dyn Consumer> = runs.of(HistoryConsumer {
            history: Arc::clone(&app.history),
            journal: app.journal.clone(),
            behind: stores.history_behind.clone(),
        });
        let delivering: Arc<dyn Consumer> = runs.of(Arc::clone(&delivery));
        // Trails with an SNS topic: each written log file is announced to it through SNS's
        // API, as cloudtrail.amazonaws.com, right after the round that wrote it.
        let notifying: Arc<dyn Consumer> = runs.of(cairn_trail::notify::Notifications {
            trails: Arc::clone(&app.trails),
            notifier: Arc::new(cairn_services::cloudtrail::sns_notices::TrailNotices::new(Arc::clone(&app))),
            clock: Arc::clone(&app.clock),
            backoff: Default::default(),
        });
        let digesting: Arc<dyn Consumer> = runs.of(Arc::clone(&digests));
        // CloudWatch's alarms: evaluated on the clock, their actions carried out.
        let alarms: Arc<dyn Consumer> = runs.of(cairn_services::cloudwatch::AlarmWork {
            app: Arc::clone(&app),
        });
        // Insights: judged first in a round, so that the Start and End records it journals
        // are indexed, delivered and routed by the consumers after it in the same round.
        let insights: Arc<dyn Consumer> =
            runs.of(cairn_services::insights::Insights::new(Arc::clone(&app)));
        let mut consumers = Consumers::new();
        consumers
            .register(Arc::clone(&insights))
            .register(Arc::clone(&history))
            .register(Arc::clone(&delivering))
            .register(Arc::clone(&notifying))
            .register(Arc::clone(&digesting))
            .register(Arc::clone(&to_logs))
            .register(Arc::clone(&alarms));
        // SNS's deliveries: the outbox.
        let sns_delivery: Arc<dyn Consumer> = runs.of(cairn_services::sns::delivery::Deliverer::new(
            Arc::clone(&app),
            &endpoint,
            open::layout(&dir).mailbox(),
        ));
        consumers.register(Arc::clone(&sns_delivery));
        // Subscription filters: what log groups store goes to their functions.
        let log_subscriptions: Arc<dyn Consumer> =
            runs.of(cairn_services::logs::subscriptions::SubscriptionDelivery {
                app: Arc::clone(&app),
            });
        consumers.register(Arc::clone(&log_subscriptions));
        // Lambda's asynchronous invocations: the queue, on a cadence of their own (a
        // function may run for minutes; it must not hold up the alerting chain).
        let lambda_async: Arc<dyn Consumer> =
            runs.of(cairn_services::lambda::Invoker::new(Arc::clone(&app)));
        consumers.register(Arc::clone(&lambda_async));
        // Woken when an invocation is queued (an event reaching a function must not wait for
        // a tick); the tick runs retries as they come due.
        // On a cluster, another node may have queued it: its commit wakes this node too.
        let mut queued = vec![app.lambda.invocations_queued()];
        if cluster.is_some() {
            queued.push(stores.commits.subscribe());
        }
        spawn_nudged(lambda_async, queued, Duration::from_millis(200));
        // EventBridge: CloudTrail records and PutEvents entries through the rules to their
        // targets, and schedules. Woken by every journal commit, so a call reaches its
        // targets within milliseconds; a tick catches what a commit does not announce (a
        // schedule coming due, a retry, bus events committed just after their record).
        let routing: Arc<dyn Consumer> = runs.of(
            cairn_services::events::routing::Router::new(Arc::clone(&app), &endpoint)
                .context("starting EventBridge's router")?,
        );
        consumers.register(Arc::clone(&routing));
        spawn_nudged(
            routing,
            vec![stores.commits.subscribe(), app.events.events_put()],
            Duration::from_millis(100),
        );
        // Detections: every recorded call judged by the rules as it is committed; findings
        // kept and put on their account's default bus.
        let detections: Arc<dyn Consumer> = runs.of(
            cairn_services::detections::engine::Detections::new(Arc::clone(&app), detection_rules)
                .context("starting the detection engine")?,
        );
        consumers.register(Arc::clone(&detections));
        spawn_nudged(detections, vec![stores.commits.subscribe()], Duration::from_millis(200));
        // Insights judge whole minutes: a round every few seconds is on time.
        spawn_nudged(insights, Vec::new(), Duration::from_secs(5));
        // CloudTrail Lake: event data stores take the journal's records into their columnar
        // files (woken by commits), and queued queries run (woken by commits too: StartQuery
        // is a recorded call), each on its own loop so a long query never holds up ingestion.
        let lake_ingest: Arc<dyn Consumer> =
            runs.of(cairn_services::cloudtrail::lake_ingest::LakeIngest::new(Arc::clone(&app)));
        consumers.register(Arc::clone(&lake_ingest));
        spawn_nudged(lake_ingest, vec![stores.commits.subscribe()], Duration::from_millis(500));
        let lake_queries: Arc<dyn Consumer> =
            runs.of(cairn_services::cloudtrail::lake_queries::LakeQueries::new(Arc::clone(&app)));
        consumers.register(Arc::clone(&lake_queries));
        spawn_nudged(lake_queries, vec![stores.commits.subscribe()], Duration::from_millis(200));
        // Imports (StartImport): files read from S3 into event data stores, a batch at a
        // time, on a loop of their own (woken by commits: StartImport is a recorded call, and
        // so are the worker's own reads).
        let lake_imports: Arc<dyn Consumer> =
            runs.of(cairn_services::cloudtrail::lake_imports::LakeImports::new(Arc::clone(&app)));
        consumers.register(Arc::clone(&lake_imports));
        spawn_nudged(lake_imports, vec![stores.commits.subscribe()], Duration::from_millis(500));
        // The alerting chain, in order: records into log groups (whose metric filters publish
        // datapoints and whose subscription filters invoke functions), alarms evaluated and
        // their notifications published, SNS deliveries. It
        // runs five times a second, so that an alert reaches its subscriber within a second of
        // its cause (AWS takes minutes; a learner should not wait for them). A round with
        // nothing due reads a cursor and a few rows.
        let mut alerting = Consumers::new();
        alerting
            .register(to_logs)
            .register(log_subscriptions)
            .register(alarms)
            .register(sns_delivery);
        spawn_rounds(alerting, Duration::from_millis(200));
        let mut catch_up = Consumers::new();
        catch_up.register(history);
        let mut trail_work = Consumers::new();
        trail_work
            .register(delivering)
            .register(notifying)
            .register(digesting);
        // S3's own work on the clock: lifecycle rules applied (S3 runs them about daily and
        // counts in whole days, so a round every ten minutes is on time), and server access
        // logs delivered from the journal on the trails' cadence. Both are registered with
        // the others, so a test clock's jump runs them too.
        let lifecycle: Arc<dyn Consumer> =
            runs.of(cairn_services::s3::lifecycle_work::LifecycleWork { app: Arc::clone(&app) });
        let access_logs: Arc<dyn Consumer> = runs.of(
            cairn_services::s3::access_logs::AccessLogs::new(Arc::clone(&app))
                .context("starting S3's access log delivery")?,
        );
        consumers.register(Arc::clone(&lifecycle)).register(Arc::clone(&access_logs));
        let mut s3_lifecycle = Consumers::new();
        s3_lifecycle.register(lifecycle);
        spawn_rounds(s3_lifecycle, Duration::from_secs(600));
        let mut s3_logs = Consumers::new();
        s3_logs.register(access_logs);
        spawn_rounds(s3_logs, Duration::from_secs(args.delivery_interval));
        spawn_rounds(catch_up, Duration::from_secs(1));
        spawn_rounds(trail_work, Duration::from_secs(args.delivery_interval));
        spawn_retention(Arc::clone(&app), consumers.clone());
        let control = test_clock.map(|clock| {
            let all = consumers.clone();
            Arc::new(cairn_services::admin::TestClockControl {
                clock,
                run_due: Box::new(move || consumers_round(&all)),
            })
        });
        let tests = cairn_services::admin::TestControls {
            clock: control,
            faults: args.test_faults,
        };
        let edge = cairn_services::edge::Edge::with_tests(Arc::clone(&app), limits, tests)
            .with_web(cairn_console::Console::new(Arc::clone(&app), &args.region));
        match tls {
            Some(t) => cairn_services::edge::serve_tls(listener, edge, t.config, shutdown_signal(term)).await,
            None => cairn_services::edge::serve(listener, edge, shutdown_signal(term)).await,
        }
        println!("cairn: shutting down (delivering pending log files and digests)");
        let (leases, node) = (Arc::clone(&stores.leases), stores.node.clone());
        let _ = tokio::task::spawn_blocking(move || {
            consumers.run_all();
            // Another node takes over at once instead of waiting for the leases to expire.
            for c in consumers.iter() {
                if let Err(e) = leases.release(c.name(), &node) {
                    tracing::warn!(consumer = c.name(), error = %e, "could not release a lease");
                }
            }
        })
        .await;
        anyhow::Ok(())
    })?;
    Ok(())
}

/// A database URL without its password, for printing.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The lake's files in a cluster's object store bucket, under `lake/` beside the bodies.
pub(crate) fn lake_beside_bodies(b: &cairn_store::objects::BodyBucket) -> cairn_lake::BucketConfig {
    let prefix = if b.prefix.is_empty() {
        "lake".to_owned()
    } else {
        format!("{}/lake", b.prefix)
    };
    cairn_lake::BucketConfig {
        endpoint: b.endpoint.clone(),
        bucket: b.bucket.clone(),
        prefix,
        region: b.region.clone(),
        access_key_id: b.access_key_id.clone(),
        secret_access_key: b.secret_access_key.clone(),
        ca_pem: None,
    }
}

/// Puts consumers under their leases (only the node holding a consumer's lease runs its
/// rounds) and makes their rounds serial.
struct OneNode {
    leases: Arc<dyn Leases>,
    node: String,
    clock: Arc<dyn Clock>,
}

impl OneNode {
    fn of<C: Consumer>(&self, consumer: C) -> Arc<dyn Consumer> {
        Serial::new(Leased::new(
            consumer,
            Arc::clone(&self.leases),
            self.node.clone(),
            Arc::clone(&self.clock),
            LEASE_TTL_MS,
        ))
    }
}

/// Binds the endpoint with a listen backlog deep enough that a burst of new connections
/// waits in the kernel's queue instead of having its SYNs dropped and retried a second later.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Records how clients reach this instance (endpoint, region, and the CA file of a
/// self-signed certificate), for `cairn env`.
fn write_endpoint_file(
    dir: &DataDir,
    endpoint: &str,
    region: &str,
    ca_bundle: Option<&str>,
) -> anyhow::Result<()> {
    let path = dir.endpoint_file();
    let tmp = path.with_extension("tmp");
    let ca = ca_bundle.map(|c| format!("{c}\n")).unwrap_or_default();
    std::fs::write(&tmp, format!("{endpoint}\n{region}\n{ca}"))
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One round of every consumer, for the test clock: what each wrote, by name.
fn consumers_round(consumers: &Consumers) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (name, r) in consumers.run_all_here() {
        let done = match r {
            Ok(r) => r.done,
            Err(e) => {
                tracing::error!(consumer = name, error = %e, "consumer round failed");
                0
            }
        };
        out.insert(name.to_owned(), done.into());
    }
    // The names `cairn clock advance` prints.
    let n = |k: &str| out.get(k).cloned().unwrap_or_default();
    let (files, digests) = (n("trail-delivery"), n("digests"));
    let logged = n("cloudwatch-logs-delivery");
    out.insert("CloudWatchLogsEvents".into(), logged);
    out.insert("LogFiles".into(), files);
    out.insert("Digests".into(), digests);
    serde_json::Value::Object(out)
}

/// Event-history retention, hourly: old events leave the index, and journal segments go once
/// every consumer has read them and they are older than the history window.
fn spawn_retention(app: Arc<App>, consumers: Consumers) {
    let Some(retention) = app.history_retention_ms else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let app = Arc::clone(&app);
            let consumers = consumers.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let cutoff = app.clock.now_millis() - retention;
                match app.history.purge_before(cutoff) {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "event history retention"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "event history retention failed"),
                }
                // History rows point into the journal, so segments outlive the window.
                let older_than = std::time::SystemTime::now()
                    - Duration::from_millis(u64::try_from(retention).unwrap_or(0));
                let purged = consumers
                    .needs_from()
                    .and_then(|cursor| app.journal.purge(cursor, older_than));
                match purged {
                    Ok(n) if n > 0 => tracing::info!(segments = n, "journal retention"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "journal retention failed"),
                }
            })
            .await;
        }
    });
}

async fn shutdown_signal(term: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match term {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The detection engine's rules: cairn's own sets, then each `--sigma-rules` folder's; the
/// rule files refused, and a line saying how many rules of each set are armed.
fn detection_rules(
    folders: &[std::path::PathBuf],
) -> anyhow::Result<(
    Vec<cairn_services::detections::rules::Armed>,
    Vec<cairn_services::detections::rules::Refused>,
    String,
)> {
    use cairn_services::detections::rules;
    let mut armed = rules::own();
    let mut refused = Vec::new();
    for dir in folders {
        let (r, bad) = rules::folder(dir)
            .with_context(|| format!("reading Sigma rules from {}", dir.display()))?;
        armed.extend(r);
        refused.extend(bad);
    }
    let mut sets: Vec<(String, usize)> = Vec::new();
    for a in &armed {
        match sets.iter_mut().find(|(s, _)| *s == a.set) {
            Some((_, n)) => *n += 1,
            None => sets.push((a.set.clone(), 1)),
        }
    }
    let parts: Vec<String> = sets.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let mut line = format!("{} rules ({})", armed.len(), parts.join(", "));
    if !refused.is_empty() {
        let n = refused.len();
        line.push_str(&format!(
            "; {n} rule file{} skipped",
            if n == 1 { "" } else { "s" }
        ));
    }
    line.push_str("; `cairn findings` lists what they found");
    Ok((armed, refused, line))
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            super::redacted("postgres://cairn:s3cret@db:5432/cairn"),
            "postgres://cairn:***@db:5432/cairn"
        );
        assert_eq!(
            super::redacted("postgres://cairn@db/cairn"),
            "postgres://cairn@db/cairn"
        );
        assert_eq!(super::redacted("host=db user=cairn"), "host=db user=cairn");
    }
}
