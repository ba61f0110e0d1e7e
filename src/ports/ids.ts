/** Makes new action ids. */
export interface IdSource {
  actionId(): string;
}
