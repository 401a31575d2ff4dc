import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

const ID_ONLY_FIELDS = new Set(['id', '__typename']);

function asksOnlyForId(selectionSet: SelectionSetNode | undefined, info: GraphQLResolveInfo): boolean {
  if (!selectionSet) return true;
  return selectionSet.selections.every((selection) => {
    switch (selection.kind) {
      case Kind.FIELD:
        return ID_ONLY_FIELDS.has(selection.name.value);
      case Kind.INLINE_FRAGMENT:
        return asksOnlyForId(selection.selectionSet, info);
      case Kind.FRAGMENT_SPREAD: {
        const fragment = info.fragments[selection.name.value];
        return fragment !== undefined && asksOnlyForId(fragment.selectionSet, info);
      }
      default:
        return false;
    }
  });
}

/**
 * For a field of a loadable object type: the object itself when the query asks it for nothing
 * but `id` (and `__typename`), else its id, which the type's dataloader then loads. A chat event
 * knows the ids of its sender and conversation, so the usual `sender { id }` costs no query.
 * The stand-in holds only `id`, which is all that such a selection reads.
 */
export function idOrReference<T extends { id: string }>(id: string, info: GraphQLResolveInfo): T | string {
  if (!info.fieldNodes.every((node) => asksOnlyForId(node.selectionSet, info))) return id;
  const reference: { id: string } = { id };
  return reference as T;
}
