import { AsnDb } from './asn.js';
import { CountryDb } from './country.js';
import { DatFile } from './dat-file.js';
import type { GeoKind } from './files.js';

/** A database opened from its bytes, by kind. */
export type OpenedGeo = { kind: 'mmdb'; db: CountryDb } | { kind: 'asn'; db: AsnDb } | { kind: 'geoip' | 'geosite'; db: DatFile };

/**
 * Opens a database's bytes as `kind` with its reader (mmdb-lib for the mmdb files, protobufjs
 * for the .dat files); throws an Error saying what is wrong. Also the check a download must
 * pass before it replaces the file on disk.
 */
export function openGeo(kind: GeoKind, data: Buffer): OpenedGeo {
  if (data.length === 0) throw new Error('the file is empty');
  switch (kind) {
    case 'mmdb':
      return { kind, db: new CountryDb(data) };
    case 'asn':
      return { kind, db: new AsnDb(data) };
    case 'geoip':
    case 'geosite':
      return { kind, db: new DatFile(data) };
  }
}
