import assert from "node:assert/strict";
import { Slots } from "../src/core/slots";

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A piece of work that runs until released, logging when it starts and ends. */
function work(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    run: async () => {
      log.push(`${name} start`);
      await done;
      log.push(`${name} end`);
    },
    release: () => release(),
  };
}

describe("Slots (what bounds one thread's uploads)", () => {
  it("runs work up to the capacity at once and starts the next as one ends", async () => {
    const slots = new Slots(2);
    const log: string[] = [];
    const [a, b, c] = [work(log, "a"), work(log, "b"), work(log, "c")];
    const all = [slots.hold(1, a.run), slots.hold(1, b.run), slots.hold(1, c.run)];
    await tick();
    assert.deepEqual(log, ["a start", "b start"]);
    a.release();
    await tick();
    await tick();
    assert.deepEqual(log, ["a start", "b start", "a end", "c start"]);
    b.release();
    c.release();
    await Promise.all(all);
  });

  it("a request for every slot waits for all to be free and is not overtaken by later single requests", async () => {
    const slots = new Slots(2);
    const log: string[] = [];
    const [a, big, c] = [work(log, "a"), work(log, "big"), work(log, "c")];
    const all = [slots.hold(1, a.run), slots.hold(2, big.run), slots.hold(1, c.run)];
    await tick();
    assert.deepEqual(log, ["a start"], "one slot is free, but big needs two and c queues behind big");
    a.release();
    await tick();
    await tick();
    assert.deepEqual(log, ["a start", "a end", "big start"]);
    big.release();
    await tick();
    await tick();
    assert.deepEqual(log, ["a start", "a end", "big start", "big end", "c start"]);
    c.release();
    await Promise.all(all);
  });

  it("frees its slots when the work fails", async () => {
    const slots = new Slots(1);
    await assert.rejects(
      slots.hold(1, async () => Promise.reject(new Error("upload failed"))),
      /upload failed/,
    );
    assert.equal(await slots.hold(1, async () => "next"), "next");
  });
});
