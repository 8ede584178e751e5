import { Prng } from "../core/prng";
import { timeMs, type PartialValues, type RecordScope, type TimestampFormat } from "../schema/compile";
import { rootOf, type Reference, type Scenario, type ScenarioDataset } from "./compile";
import { ZipfSampler, type ChildCount } from "./distributions";

/**
 * The entities of a scenario as pure functions of their position. An entity is named by its path
 * from its root: `users[i]`, `orders[i, j]` (user i's j-th order), `page_views[i, j, k]`. Its
 * values come from a PRNG derived from (scenario, seed, dataset, path) alone, and so do its
 * children's count, whether it is an orphan, and what its references pick. Any thread, shard or
 * function that needs user i's country computes user i — no shared table, no first pass.
 *
 * Entity numbers (`{n}` and `sequence`): a root's is i + 1; a child's is its parent's × stride +
 * j + 1, the stride a power of ten above the per-parent maximum (user 42's 3rd order is 4203).
 * Ghosts — the missing parents of orphans and the missing targets of dangling picks — are roots
 * numbered count + 1 … 2 × count: computed like any entity, never written.
 */

type Values = Record<string, unknown>;

/** The day and curve a world's timestamps fall in, and its seed. */
export interface WorldIdentity {
  readonly seed: number;
  /** The day; a backfill's first day. */
  readonly datePrefix: string;
  readonly secondOfDay?: (rng: Prng) => number;
  /**
   * A backfill's days from `datePrefix` on: the roots of a dataset with timestamps are spread over
   * them in index order (root i of N on day ⌊i·days/N⌋, its own timestamps in that day), and each
   * entity is filed under the day of its first timestamp field (see `filingDay`).
   */
  readonly days?: number;
}

const DAY_MS = 86_400_000;

interface Links {
  /** An orphan's missing parent, as a ghost path at the parent's depth. */
  readonly ghostParent?: readonly number[];
  /** Root index each reference picked (ghosts for dangling picks), by reference name. */
  readonly picks: ReadonlyMap<string, number>;
}

/** An entity whose fields are computed as they are needed: a parent is often read for two fields only. */
interface Entity extends PartialValues {
  readonly links: Links;
  readonly scope: EntityScope;
  complete: boolean;
  /** The `wanted` sets already filled in (each dataset reads a fixed set, so there are few). */
  readonly filled: ReadonlySet<string>[];
}

/** Four words from a PRNG seeded by name: the base each entity's PRNG is derived from. */
function base(...parts: (string | number)[]): Uint32Array {
  const rng = Prng.fromParts(...parts);
  return Uint32Array.of(rng.next(), rng.next(), rng.next(), rng.next());
}

const fmix = (x: number): number => {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** Four words for one path, from a base: a few integer mixes per level instead of a SHA-256 per entity. */
function mix(seedWords: Uint32Array, path: readonly number[]): [number, number, number, number] {
  let a = seedWords[0] as number;
  let b = seedWords[1] as number;
  let c = seedWords[2] as number;
  let d = seedWords[3] as number;
  for (const x of path) {
    const lo = x >>> 0;
    const hi = Math.floor(x / 4294967296) >>> 0;
    a = fmix(a ^ lo ^ Math.imul(hi, 0x9e3779b1));
    b = fmix((b ^ a) + 0x632be5ab);
    c = fmix(c ^ b ^ 0x85157af5);
    d = fmix((d + c) ^ lo);
  }
  return [a, b, c, d];
}

/** A PRNG for one path. */
export function derive(seedWords: Uint32Array, path: readonly number[]): Prng {
  const [a, b, c, d] = mix(seedWords, path);
  return new Prng(a, b, c, d);
}

/** An entity that is no orphan and picks nothing. */
const NO_LINKS: Links = Object.freeze({ picks: new Map<string, number>() });

/** Whether `a` is the first `length` steps of `b`. */
function samePath(a: readonly number[], b: readonly number[], length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Entities kept per dataset that references pick from (a parent needs only the last one: its children come in a run). */
const CACHE_ENTRIES = 4096;

class DatasetState {
  /** Its root dataset's entities, which a backfill spreads over its days. */
  readonly roots: number;
  /** The first timestamp field (declared order), which files an entity under its day; and what computing it needs. */
  readonly timeField: { readonly name: string; readonly format: TimestampFormat; readonly wanted: ReadonlySet<string> } | undefined;
  /** Whether its root dataset has a timestamp field (a root without one exists from the backfill's first day). */
  readonly rootTimed: boolean;
  readonly valuesBase: Uint32Array;
  readonly countBase: Uint32Array;
  readonly linksBase: Uint32Array;
  readonly cache = new Map<string, Entity>();
  readonly samplers: ReadonlyMap<string, { n: number; zipf?: ZipfSampler }>;
  /** Per related name: the fields this dataset reads of it, with what they depend on there. */
  readonly wanted: ReadonlyMap<string, ReadonlySet<string>>;
  /** A backfill's bounds on how far from its root's day an entity is filed (see `World.dayOffsets`). */
  offsets: { readonly before: boolean; readonly after: number } | undefined;
  /** The scope records being written are computed in, reused. */
  writing: EntityScope | undefined;
  /** Whether references pick its entities (then it keeps a cache of them beyond the last one). */
  readonly picked: boolean;
  last: { path: readonly number[]; entity: Entity } | undefined;

  constructor(
    scenario: Scenario,
    seed: number,
    readonly d: ScenarioDataset,
  ) {
    const root = rootOf(scenario, d);
    this.roots = root.count as number;
    this.rootTimed = root.schema.timeFormats.size > 0;
    const [first] = d.schema.timeFormats;
    this.timeField = first && { name: first[0], format: first[1], wanted: d.schema.closure([first[0]]) };
    this.valuesBase = base("scenario entity", scenario.name, seed, d.name);
    this.picked = [...scenario.datasets.values()].some((x) => x.references.some((r) => r.dataset === d.name));
    this.countBase = base("scenario children", scenario.name, seed, d.name);
    this.linksBase = base("scenario links", scenario.name, seed, d.name);
    this.samplers = new Map(
      d.references.map((r) => {
        const n = scenario.datasets.get(r.dataset)?.count as number;
        return [r.name, r.skew.kind === "zipf" ? { n, zipf: new ZipfSampler(n, r.skew.s) } : { n }] as const;
      }),
    );
    this.wanted = new Map(
      [...d.schema.externalReads].map(([name, fields]) => {
        const target = scenario.datasets.get(d.references.find((r) => r.name === name)?.dataset ?? name) as ScenarioDataset;
        return [name, target.schema.closure(fields)] as const;
      }),
    );
  }
}

/**
 * What an entity's generators see. A class (not an object of closures): a file computes one per
 * record, and a scope's methods are shared. Each field draws from a PRNG of its own, reseeded
 * from the entity's words and the field's position.
 */
class EntityScope implements RecordScope {
  private readonly fieldPrng = new Prng(0, 0, 0, 0);
  rng: Prng = this.fieldPrng;
  /** Related entities this record has read, by name: several fields often read the same parent. */
  private readonly seen = new Map<string, Values>();
  index = 0;
  readonly fileIndex = 0;
  values: Values = {};
  private path: readonly number[] = [];
  private links: Links = { picks: new Map() };
  private a = 0;
  private b = 0;
  private c = 0;
  private w = 0;

  constructor(
    private readonly world: World,
    private readonly state: DatasetState,
    /** The day of the entity's root: where its timestamps not tied to another fall. */
    public dayStartMs: number,
    private readonly curve: ((rng: Prng) => number) | undefined,
  ) {}

  /** The path of the entity it computes. */
  get entityPath(): readonly number[] {
    return this.path;
  }

  start(path: readonly number[], links: Links, index: number, a: number, b: number, c: number, w: number, dayStartMs: number): void {
    this.seen.clear();
    this.dayStartMs = dayStartMs;
    this.path = path;
    this.links = links;
    this.index = index;
    this.a = a;
    this.b = b;
    this.c = c;
    this.w = w;
  }

  fieldRng(i: number): Prng {
    return this.fieldPrng.reseed(fmix(this.a ^ Math.imul(i + 1, 0x9e3779b1)), this.b, this.c, this.w);
  }

  secondOfDay(): number {
    return this.curve ? this.curve(this.rng) : this.rng.int(86_400);
  }

  related(name: string): Values {
    let values = this.seen.get(name);
    if (values === undefined) {
      values = this.world.related(this.state.d, this.path, this.links, name, this.state.wanted.get(name));
      this.seen.set(name, values);
    }
    return values;
  }
}

export class World {
  private readonly states = new Map<string, DatasetState>();
  private readonly dayStartMs: number;

  constructor(
    readonly scenario: Scenario,
    private readonly id: WorldIdentity,
  ) {
    const [y, m, d] = id.datePrefix.split("-").map(Number) as [number, number, number];
    this.dayStartMs = Date.UTC(y, m - 1, d);
    for (const ds of scenario.datasets.values()) this.states.set(ds.name, new DatasetState(scenario, id.seed, ds));
  }

  dataset(name: string): ScenarioDataset {
    const d = this.scenario.datasets.get(name);
    if (!d) throw new Error(`scenario ${this.scenario.name} has no dataset "${name}"`);
    return d;
  }

  private state(d: ScenarioDataset): DatasetState {
    return this.states.get(d.name) as DatasetState;
  }

  /** How many children of dataset `child` the parent at `parentPath` has. */
  childCount(child: ScenarioDataset, parentPath: readonly number[]): number {
    return (child.perParent as ChildCount).sample(derive(this.state(child).countBase, parentPath));
  }

  /** An entity's number (see the module comment). */
  number(d: ScenarioDataset, path: readonly number[]): number {
    let n = (path[0] as number) + 1;
    for (let level = 1; level < path.length; level++) {
      const x = this.dataset(d.lineage[level] as string);
      n = n * x.stride + (path[level] as number) + 1;
    }
    return n;
  }

  /** An entity, its fields not computed yet unless cached; `path` is copied, so callers may reuse theirs. */
  private entity(d: ScenarioDataset, path: readonly number[], length = path.length): Entity {
    const state = this.state(d);
    // Children come in runs under one parent: the last entity asked for is checked first.
    const last = state.last;
    if (last && samePath(last.path, path, length)) return last.entity;
    // Picks jump around (a Zipf head is picked again and again): those datasets keep more.
    const key = state.picked ? path.slice(0, length).join(",") : "";
    let entity = state.picked ? state.cache.get(key) : undefined;
    if (!entity) {
      const own = path.slice(0, length);
      const links = this.links(d, own);
      entity = { values: {}, computed: new Set(), links, scope: this.scope(state, own, links), complete: false, filled: [] };
      if (state.picked) {
        if (state.cache.size >= CACHE_ENTRIES) state.cache.delete(state.cache.keys().next().value as string);
        state.cache.set(key, entity);
      }
    }
    state.last = { path: entity.scope.entityPath, entity };
    return entity;
  }

  private scope(state: DatasetState, path: readonly number[], links: Links, reuse?: EntityScope): EntityScope {
    const [a, b, c, w] = mix(state.valuesBase, path);
    const scope = reuse ?? new EntityScope(this, state, this.dayStartMs, this.id.secondOfDay);
    scope.start(path, links, this.number(state.d, path) - 1, a, b, c, w, this.id.days === undefined ? this.dayStartMs : this.dayStartMs + this.rootDay(state, path[0] as number) * DAY_MS);
    return scope;
  }

  /** A backfill's day of root i (ghosts, numbered N … 2N − 1, as root i − N): day 0 for a root without timestamps. */
  private rootDay(state: DatasetState, root: number): number {
    const days = this.id.days ?? 1;
    if (!state.rootTimed) return 0;
    const i = root >= state.roots ? root - state.roots : root;
    return Math.floor((i * days) / state.roots);
  }

  /**
   * The roots whose descendants of `d` a backfill may file under day k: roots of the days from
   * k − (the most days after its root's day an entity of `d` can fall) to k — every root when a
   * time follows a referenced entity's, which may lie on any day.
   */
  rootsFor(d: ScenarioDataset, k: number): [number, number] {
    const state = this.state(d);
    const { before, after } = this.dayOffsets(d);
    const to = before ? state.roots : this.rootsThrough(d, k);
    const from = after === Infinity || k - after - 1 < 0 ? 0 : this.rootsThrough(d, k - after - 1);
    return [Math.min(from, to), to];
  }

  /**
   * How an entity's filing day can lie from its root's day: `after` days later at most, and
   * `before` whether it can be earlier (a time after a referenced entity's). Bounds in
   * milliseconds past the root's day start: a time in its day < 1 day; after another ≤ that one's
   * bound + `within`; a null first time (the parent's day) is covered by the parent's bound.
   */
  private dayOffsets(d: ScenarioDataset): { before: boolean; after: number } {
    const state = this.state(d);
    if (state.offsets) return state.offsets;
    let before = false;
    const lag = (ds: ScenarioDataset, field: string, depth: number): number => {
      const rule = ds.schema.timeRules.get(field);
      if (!rule || depth > 64) return Infinity;
      if (rule.after === undefined) return DAY_MS;
      const [a, b] = rule.after.split(".") as [string, string?];
      if (b === undefined) return Math.max(DAY_MS, lag(ds, a, depth + 1)) + rule.withinMs;
      const ancestor = ds.lineage.includes(a) && a !== ds.name ? this.dataset(a) : undefined;
      if (!ancestor) before = true;
      return ancestor ? Math.max(DAY_MS, lag(ancestor, b, depth + 1)) + rule.withinMs : Infinity;
    };
    let bound = 0;
    for (const name of d.lineage) {
      const ds = this.dataset(name);
      const [first] = ds.schema.timeFormats.keys();
      bound = Math.max(bound, first === undefined ? 0 : lag(ds, first, 0));
    }
    // The bound is exclusive: below one day past the root's day start is the root's own day.
    const offsets = { before, after: bound === Infinity ? Infinity : Math.max(0, Math.ceil(bound / DAY_MS) - 1) };
    state.offsets = offsets;
    return offsets;
  }

  /** How many entities `d`'s root dataset has. */
  rootCount(d: ScenarioDataset): number {
    return this.state(d).roots;
  }

  /** Root indices of `d`'s root dataset on days 0 … k of a backfill: [0, end). */
  rootsThrough(d: ScenarioDataset, k: number): number {
    const state = this.state(d);
    return state.rootTimed ? Math.ceil(((k + 1) * state.roots) / (this.id.days ?? 1)) : state.roots;
  }

  /**
   * The backfill day (0 = its first) an entity is filed under: the day of its first timestamp
   * field; without one (or when it is null) its parent's day; a root without timestamps is on day
   * 0. Timestamps only move forward from a parent's (`after`), so a child is on its parent's day or
   * later; a day past the backfill's last is an entity that has not happened by its end.
   */
  filingDay(d: ScenarioDataset, path: readonly number[], length = path.length): number {
    const state = this.state(d);
    const t = state.timeField;
    if (t) {
      const ms = timeMs(this.values(d, path, t.wanted, length)[t.name], t.format);
      if (ms !== undefined) return Math.floor((ms - this.dayStartMs) / DAY_MS);
    }
    if (d.parent === undefined || length === 1) return this.rootDay(state, path[0] as number);
    const links = this.links(d, path.slice(0, length));
    if (links.ghostParent) return this.filingDay(this.dataset(d.parent), links.ghostParent, links.ghostParent.length);
    return this.filingDay(this.dataset(d.parent), path, length - 1);
  }

  /** An entity's values: all of them, or the `wanted` ones (a closure over their dependencies). */
  values(d: ScenarioDataset, path: readonly number[], wanted?: ReadonlySet<string>, length = path.length): Values {
    const e = this.entity(d, path, length);
    if (e.complete || (wanted !== undefined && e.filled.includes(wanted))) return e.values;
    d.schema.fill(e.scope, e, wanted);
    if (wanted === undefined) e.complete = true;
    else e.filled.push(wanted);
    return e.values;
  }

  /**
   * The JSON text of the record of an entity a file writes. Nothing reads a record once written,
   * so it is computed in one reused scope, without the cache (parents and picks are cached).
   */
  record(d: ScenarioDataset, path: readonly number[]): { text: string; values: Readonly<Record<string, unknown>>; links: Links } {
    // Computed afresh even when a child has cached it: the same values either way.
    const state = this.state(d);
    const links = this.links(d, path);
    const scope = this.scope(state, path.slice(), links, state.writing);
    state.writing = scope;
    const values = d.schema.values(scope);
    return { text: d.schema.text(values), values, links };
  }

  /** Whether an entity is an orphan and what its references pick: its own PRNG, apart from its values. */
  private links(d: ScenarioDataset, path: readonly number[]): Links {
    if (d.orphans === 0 && d.references.length === 0) return NO_LINKS;
    const picks = new Map<string, number>();
    const rng = derive(this.state(d).linksBase, path);
    let ghostParent: number[] | undefined;
    if (d.orphans > 0 && rng.float() < d.orphans) {
      const root = rootOf(this.scenario, d).count as number;
      let ghost = rng.int(root);
      // A backfill's ghost is of the orphan's root's day, so the orphan's time follows a parent of its own day.
      if (this.id.days !== undefined) {
        const state = this.state(d);
        const day = this.rootDay(state, path[0] as number);
        const first = day === 0 ? 0 : this.rootsThrough(d, day - 1);
        ghost = first + (ghost % Math.max(1, this.rootsThrough(d, day) - first));
      }
      ghostParent = [root + ghost, ...new Array<number>(path.length - 2).fill(0)];
    }
    for (const r of d.references) picks.set(r.name, this.pick(d, r, rng));
    return ghostParent ? { ghostParent, picks } : { picks };
  }

  private pick(d: ScenarioDataset, r: Reference, rng: Prng): number {
    const { n, zipf } = this.state(d).samplers.get(r.name) as { n: number; zipf?: ZipfSampler };
    if (r.dangling > 0 && rng.float() < r.dangling) return n + rng.int(n);
    // Rank 1, the hottest key, is entity 1.
    return zipf ? zipf.sample(rng) - 1 : rng.int(n);
  }

  /**
   * The values of the entity a field names — an ancestor dataset, or a reference — with at least
   * the fields `wanted` (what the asking dataset reads of it, and their dependencies).
   */
  /** @internal (EntityScope) */
  related(d: ScenarioDataset, path: readonly number[], links: Links, name: string, wanted: ReadonlySet<string> | undefined): Values {
    const picked = links.picks.get(name);
    if (picked !== undefined) {
      const r = d.references.find((x) => x.name === name) as Reference;
      return this.values(this.dataset(r.dataset), [picked], wanted);
    }
    // An ancestor, through the parent: a grandchild's user is its session's user (a ghost for an orphan's line).
    const parent = this.dataset(d.parent as string);
    // The parent's path is this one's without its last step (not copied: entity() copies on a miss).
    const parentPath = links.ghostParent ?? path;
    const length = links.ghostParent ? links.ghostParent.length : path.length - 1;
    if (parent.name === name) return this.values(parent, parentPath, wanted, length);
    const p = this.entity(parent, parentPath, length);
    return this.related(parent, p.scope.entityPath, p.links, name, wanted);
  }

  /** Root indices [from, to) of file `fileIndex` of `fileCount`: files split the roots evenly. */
  static rootRange(roots: number, fileIndex: number, fileCount: number): [number, number] {
    return [Math.floor((fileIndex * roots) / fileCount), Math.floor(((fileIndex + 1) * roots) / fileCount)];
  }

  /** How many entities of `d` lie under roots [from, to). */
  countIn(d: ScenarioDataset, from: number, to: number): number {
    const chain = d.lineage.map((n) => this.dataset(n));
    const depth = chain.length - 1;
    if (depth === 0) return to - from;
    const path: number[] = [];
    const walk = (level: number): number => {
      const child = chain[level + 1] as ScenarioDataset;
      const n = this.childCount(child, path);
      if (level + 1 === depth) return n;
      let total = 0;
      for (let j = 0; j < n; j++) {
        path[level + 1] = j;
        total += walk(level + 1);
      }
      path.length = level + 1;
      return total;
    };
    let total = 0;
    for (let i = from; i < to; i++) {
      path.length = 0;
      path[0] = i;
      total += walk(0);
    }
    return total;
  }

  /** The paths of `d`'s entities under roots [from, to), in order. The yielded array is reused. */
  *paths(d: ScenarioDataset, from: number, to: number): Generator<readonly number[]> {
    const chain = d.lineage.map((n) => this.dataset(n));
    const depth = chain.length - 1;
    const path: number[] = [];
    const self = this;
    function* walk(level: number): Generator<readonly number[]> {
      if (level === depth) {
        yield path;
        return;
      }
      const child = chain[level + 1] as ScenarioDataset;
      const n = self.childCount(child, path.slice(0, level + 1));
      for (let j = 0; j < n; j++) {
        path[level + 1] = j;
        path.length = level + 2;
        yield* walk(level + 1);
      }
    }
    for (let i = from; i < to; i++) {
      path.length = 1;
      path[0] = i;
      yield* walk(0);
    }
  }
}
