import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  INVESTORS,
  REFERENCE_DATA,
  START_CONVERSATION,
  STARTUPS,
  type InvestorCard,
  type InvestorsResult,
  type ReferenceDataResult,
  type Role,
  type StartupCard,
  type StartupsResult,
} from '../graphql/documents';
import { errorMessage } from '../graphql/errors';
import { navigate } from '../router';
import { Alert, Select } from '../ui/form';
import { placeOf } from '../ui/names';

const PAGE_SIZE = 10;

/** Waits until typing pauses, so a search is one request, not one per key. */
function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function BrowsePage({ viewerRole }: { viewerRole: Role }) {
  // Each side browses the other by default.
  const [kind, setKind] = useState<'startups' | 'investors'>(viewerRole === 'INVESTOR' ? 'startups' : 'investors');
  const [search, setSearch] = useState('');
  const [industryId, setIndustryId] = useState('');
  const [locationId, setLocationId] = useState('');
  const [after, setAfter] = useState<string | null>(null);
  const debouncedSearch = useDebounced(search.trim(), 300);
  const [{ data: reference }] = useQuery<ReferenceDataResult>({ query: REFERENCE_DATA });

  const filter = {
    ...(debouncedSearch ? { search: debouncedSearch } : {}),
    ...(locationId ? { locationId } : {}),
    ...(kind === 'startups' && industryId ? { industryId } : {}),
  };
  // New filters start from the first page; relayPagination() merges the "load more" pages.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the filters are the trigger, not inputs of the effect
  useEffect(() => {
    setAfter(null);
  }, [kind, debouncedSearch, industryId, locationId]);

  const [startups] = useQuery<StartupsResult>({ query: STARTUPS, variables: { first: PAGE_SIZE, after, filter }, pause: kind !== 'startups' });
  const [investors] = useQuery<InvestorsResult>({ query: INVESTORS, variables: { first: PAGE_SIZE, after, filter }, pause: kind !== 'investors' });
  const list = kind === 'startups' ? startups.data?.startups : investors.data?.investors;
  const result = kind === 'startups' ? startups : investors;

  return (
    <main className="page">
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={kind === 'startups'} onClick={() => setKind('startups')}>
          Startups
        </button>
        <button type="button" role="tab" aria-selected={kind === 'investors'} onClick={() => setKind('investors')}>
          Investors
        </button>
      </div>
      <div className="filters">
        <div className="field">
          <label htmlFor="search">Search</label>
          <input id="search" type="search" placeholder="Company or description" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        {kind === 'startups' && (
          <Select label="Industry" name="filter-industry" value={industryId} onChange={(e) => setIndustryId(e.target.value)}>
            <option value="">All industries</option>
            {reference?.industries.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </Select>
        )}
        <Select label="Location" name="filter-location" value={locationId} onChange={(e) => setLocationId(e.target.value)}>
          <option value="">All locations</option>
          {reference?.locations.map((l) => (
            <option key={l.id} value={l.id}>
              {placeOf(l)}
            </option>
          ))}
        </Select>
      </div>
      <Alert>{errorMessage(result.error)}</Alert>
      <ul className="cards" aria-label={kind === 'startups' ? 'Startups' : 'Investors'}>
        {list?.edges.map(({ node }) => (
          <ProfileCard key={node.id} profile={node} canMessage={viewerRole === 'INVESTOR' && kind === 'startups'} />
        ))}
      </ul>
      {list && list.edges.length === 0 && <p className="muted">Nothing matches these filters.</p>}
      {list?.pageInfo.hasNextPage && (
        <button type="button" className="secondary" disabled={result.fetching} onClick={() => setAfter(list.pageInfo.endCursor)}>
          Load more
        </button>
      )}
    </main>
  );
}

function ProfileCard({ profile, canMessage }: { profile: StartupCard | InvestorCard; canMessage: boolean }) {
  const [started, start] = useMutation<{ startConversation: { id: string } }>(START_CONVERSATION);
  const message = async () => {
    const result = await start({ userId: profile.owner.id });
    if (result.data) navigate(`/chats/${result.data.startConversation.id}`);
  };
  return (
    <li className="card profile">
      <h2>{profile.companyName}</h2>
      <p className="muted">
        {'industry' in profile && profile.industry ? `${profile.industry.name} · ` : ''}
        {placeOf(profile.location)}
      </p>
      {profile.description && <p>{profile.description}</p>}
      <a href={profile.website} target="_blank" rel="noreferrer noopener">
        {profile.website}
      </a>
      {canMessage && (
        <button type="button" onClick={message} disabled={started.fetching}>
          Message
        </button>
      )}
      <Alert>{errorMessage(started.error)}</Alert>
    </li>
  );
}
