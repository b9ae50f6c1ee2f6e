import protobuf from 'protobufjs/light.js';

/**
 * The v2ray geo data messages (GeoIP.dat, GeoSite.dat) as a protobufjs reflection root: the
 * files are a list of entries, each a code with its CIDRs or domains. Field numbers are the
 * file format's; the names are protobufjs's camelCase of the format's fields. The types encode
 * (tests, bench) and document the layout; reading walks the same fields with protobufjs's
 * Reader (dat-file.ts), which builds no message object per domain.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    geo: {
      nested: {
        Domain: {
          fields: {
            type: { type: 'int32', id: 1 },
            value: { type: 'string', id: 2 },
            attribute: { rule: 'repeated', type: 'Attribute', id: 3 },
          },
          nested: {
            Attribute: {
              oneofs: { typedValue: { oneof: ['boolValue', 'intValue'] } },
              fields: {
                key: { type: 'string', id: 1 },
                boolValue: { type: 'bool', id: 2 },
                intValue: { type: 'int64', id: 3 },
              },
            },
          },
        },
        CIDR: { fields: { ip: { type: 'bytes', id: 1 }, prefix: { type: 'uint32', id: 2 } } },
        GeoIP: {
          fields: {
            countryCode: { type: 'string', id: 1 },
            cidr: { rule: 'repeated', type: 'CIDR', id: 2 },
            reverseMatch: { type: 'bool', id: 3 },
          },
        },
        GeoIPList: { fields: { entry: { rule: 'repeated', type: 'GeoIP', id: 1 } } },
        GeoSite: {
          fields: {
            countryCode: { type: 'string', id: 1 },
            domain: { rule: 'repeated', type: 'Domain', id: 2 },
          },
        },
        GeoSiteList: { fields: { entry: { rule: 'repeated', type: 'GeoSite', id: 1 } } },
      },
    },
  },
});

export const GeoIPType = root.lookupType('geo.GeoIP');
export const GeoIPListType = root.lookupType('geo.GeoIPList');
export const GeoSiteType = root.lookupType('geo.GeoSite');
export const GeoSiteListType = root.lookupType('geo.GeoSiteList');

/** Domain.type: how `value` is matched. */
export const DOMAIN_PLAIN = 0; // substring (a keyword)
export const DOMAIN_REGEX = 1;
export const DOMAIN_DOMAIN = 2; // the domain and its subdomains
export const DOMAIN_FULL = 3; // exactly this name

export { protobuf };
