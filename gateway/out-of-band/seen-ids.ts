/** A bounded set of recently handled message ids (oldest evicted first), to ignore retried deliveries. */
export class SeenIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new RangeError('SeenIds: max must be at least 1');
  }

  has(id: string): boolean { return this.ids.has(id); }

  add(id: string): void {
    if (this.ids.has(id)) return;
    if (this.ids.size >= this.max) this.ids.delete(this.ids.values().next().value as string);
    this.ids.add(id);
  }

  remove(id: string): void { this.ids.delete(id); }

  get size(): number { return this.ids.size; }
}
