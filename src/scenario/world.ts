import { Prng } from "../prng";
import type { RecordScope } from "../schema/compile";
import { expectedCount, rootOf, type Reference, type Scenario, type ScenarioDataset } from "./compile";
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
  readonly datePrefix: string;
  readonly secondOfDay?: (rng: Prng) => number;
}

interface Links {
  /** An orphan's missing parent, as a ghost path at the parent's depth. */
  readonly ghostParent?: readonly number[];
  /** Root index each reference picked (ghosts for dangling picks), by reference name. */
  readonly picks: ReadonlyMap<string, number>;
}

interface Entity {
  readonly values: Values;
  readonly links: Links;
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

/** A PRNG for one path, from a base: a few integer mixes per level instead of a SHA-256 per entity. */
export function derive(seedWords: Uint32Array, path: readonly number[]): Prng {
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
  return new Prng(a, b, c, d);
}

/** Recently computed entities per dataset: a parent is shared by its children, a hot key by many. */
const CACHE_ENTRIES = 4096;

class DatasetState {
  readonly valuesBase: Uint32Array;
  readonly countBase: Uint32Array;
  readonly linksBase: Uint32Array;
  readonly cache = new Map<string, Entity>();
  readonly samplers: ReadonlyMap<string, { n: number; zipf?: ZipfSampler }>;

  constructor(
    scenario: Scenario,
    seed: number,
    readonly d: ScenarioDataset,
  ) {
    this.valuesBase = base("scenario entity", scenario.name, seed, d.name);
    this.countBase = base("scenario children", scenario.name, seed, d.name);
    this.linksBase = base("scenario links", scenario.name, seed, d.name);
    this.samplers = new Map(
      d.references.map((r) => {
        const n = scenario.datasets.get(r.dataset)?.count as number;
        return [r.name, r.skew.kind === "zipf" ? { n, zipf: new ZipfSampler(n, r.skew.s) } : { n }] as const;
      }),
    );
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

  /** An entity's values; `path` is copied, so callers may reuse theirs. */
  entity(d: ScenarioDataset, path: readonly number[]): Entity {
    const state = this.state(d);
    const key = path.join(",");
    const cached = state.cache.get(key);
    if (cached) return cached;
    const own = path.slice();
    const links = this.links(d, own);
    const rng = derive(state.valuesBase, own);
    const curve = this.id.secondOfDay;
    const scope: RecordScope = {
      rng,
      index: this.number(d, own) - 1,
      fileIndex: 0,
      values: {},
      dayStartMs: this.dayStartMs,
      secondOfDay: curve ? () => curve(rng) : () => rng.int(86_400),
      related: (name) => this.related(d, own, links, name),
    };
    const entity: Entity = { values: d.schema.values(scope), links };
    if (state.cache.size >= CACHE_ENTRIES) state.cache.delete(state.cache.keys().next().value as string);
    state.cache.set(key, entity);
    return entity;
  }

  /** The JSON text of an entity's record. */
  record(d: ScenarioDataset, path: readonly number[]): { text: string; links: Links } {
    const e = this.entity(d, path);
    return { text: d.schema.text(e.values), links: e.links };
  }

  /** Whether an entity is an orphan and what its references pick: its own PRNG, apart from its values. */
  private links(d: ScenarioDataset, path: readonly number[]): Links {
    const picks = new Map<string, number>();
    if (d.orphans === 0 && d.references.length === 0) return { picks };
    const rng = derive(this.state(d).linksBase, path);
    let ghostParent: number[] | undefined;
    if (d.orphans > 0 && rng.float() < d.orphans) {
      const root = rootOf(this.scenario, d).count as number;
      ghostParent = [root + rng.int(root), ...new Array<number>(path.length - 2).fill(0)];
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

  /** The values of the entity a field names: an ancestor dataset, or a reference. */
  private related(d: ScenarioDataset, path: readonly number[], links: Links, name: string): Values {
    const picked = links.picks.get(name);
    if (picked !== undefined) {
      const r = d.references.find((x) => x.name === name) as Reference;
      return this.entity(this.dataset(r.dataset), [picked]).values;
    }
    // An ancestor, through the parent: a grandchild's user is its session's user (a ghost for an orphan's line).
    const parent = this.dataset(d.parent as string);
    const parentPath = links.ghostParent ?? path.slice(0, -1);
    if (parent.name === name) return this.entity(parent, parentPath).values;
    const p = this.entity(parent, parentPath);
    return this.related(parent, parentPath, p.links, name);
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

  /** The expected number of `d`'s entities (the planner's figure before any are made). */
  expected(d: ScenarioDataset): number {
    return expectedCount(this.scenario, d);
  }
}
