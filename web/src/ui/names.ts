import type { Location, UserSummary } from '../graphql/documents';

export const companyOf = (user: UserSummary): string =>
  user.startupProfile?.companyName ?? user.investorProfile?.companyName ?? ([user.firstName, user.lastName].filter(Boolean).join(' ') || 'Unknown');

export const placeOf = (location: Location | null): string => (location ? [location.city, location.country].filter(Boolean).join(', ') : '');

export const timeOf = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export const dateTimeOf = (iso: string): string => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
