// The SET list of an UPDATE, built from the fields a caller gives: each column appears only when
// it changes, next to its own parameter, so a statement reads as what it does rather than as a
// row of positional booleans ("CASE WHEN $9::boolean THEN …").

export class SetClause {
  private readonly parts: string[] = [];

  /** `params` already holds the statement's other parameters ($1…): ours are numbered after. */
  constructor(readonly params: unknown[]) {}

  /** `column = $n` (with an optional cast such as `::jsonb`), when `value` is not undefined. */
  set(column: string, value: unknown, cast = ''): this {
    if (value === undefined) return this;
    this.params.push(value);
    this.parts.push(`${column} = $${this.params.length}${cast}`);
    return this;
  }

  /** An expression without a parameter (`updated_at = now()`), when `when` holds. */
  expr(assignment: string, when = true): this {
    if (when) this.parts.push(assignment);
    return this;
  }

  get sql(): string {
    return this.parts.join(', ');
  }
}
