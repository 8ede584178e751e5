/**
 * The layers of synthgen, lowest first (docs/development.md draws them). A module may import its own
 * layer and the layers below it, never one above; the three jobs never import one another; nothing
 * imports in a circle. `npm run lint:layers` checks this in CI.
 */
const LAYERS = [
  { name: "core", path: "^src/core/" },
  { name: "records", path: "^src/records/" },
  { name: "schema", path: "^src/schema/" },
  { name: "scenarios", path: "^src/scenarios/" },
  { name: "datasets", path: "^src/datasets/" },
  { name: "formats", path: "^src/formats/" },
  { name: "sinks", path: "^src/sinks/" },
  { name: "catalog", path: "^src/catalog/" },
  { name: "jobs", path: "^src/(files|events|metrics)/" },
  // Loads a files run's records into a database, so it plans with the files job.
  { name: "databases", path: "^src/databases/" },
  // Definitions from what a user has: samples, and databases read through the databases layer.
  { name: "infer", path: "^src/infer/" },
  // Checks what a job wrote, so it may use the jobs' plans; nothing below imports it.
  { name: "checks", path: "^src/verify/" },
  { name: "edges", path: "^(functions|workers|cli|infra)/|^index\\.ts$" },
];

const JOBS = ["files", "events", "metrics"];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer.name}-not-up`,
  comment: `${layer.name} (${layer.path}) may import only ${LAYERS.slice(0, i + 1)
    .map((l) => l.name)
    .join(", ")}`,
  severity: "error",
  from: { path: layer.path },
  to: {
    path: LAYERS.slice(i + 1)
      .map((l) => l.path)
      .join("|"),
  },
}));

const jobsApart = JOBS.map((job) => ({
  name: `${job}-job-alone`,
  comment: `the ${job} job does not import another job: what two jobs share lives in a lower layer`,
  severity: "error",
  from: { path: `^src/${job}/` },
  to: { path: `^src/(${JOBS.filter((j) => j !== job).join("|")})/` },
}));

module.exports = {
  forbidden: [
    { name: "no-circular", comment: "an import cycle: move what both sides need into the lower one", severity: "error", from: {}, to: { circular: true } },
    ...upward,
    ...jobsApart,
    {
      name: "runtime-without-pulumi",
      comment: "what runs in Lambda or on a laptop (src, functions, workers, cli) never loads Pulumi or the stack",
      severity: "error",
      from: { path: "^(src|functions|workers|cli)/" },
      to: { path: "^infra/|^index\\.ts$|node_modules/@pulumi/" },
    },
    {
      name: "edges-apart",
      comment: "functions, workers, cli and infra are separate entry points: none imports another (infra may validate config with src only)",
      severity: "error",
      from: { path: "^(functions|workers|cli|infra)/" },
      to: { path: "^(functions|workers|cli|infra)/", pathNot: "^$1/" },
    },
    {
      name: "not-to-tests-or-bench",
      comment: "production code never imports a spec, a test helper or a benchmark",
      severity: "error",
      from: { pathNot: "^(test|bench)/" },
      to: { path: "^(test|bench)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
