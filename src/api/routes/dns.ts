/** /dns/query and /cache (mihomo's hub/route/dns.go and cache.go). */
import { errorMessage } from '../../core/errors.js';
import { ApiError, noContent, sendJson } from '../http.js';
import type { Router } from '../router.js';

/** record type numbers for the types a query may name */
const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, HTTPS: 65, SVCB: 64 };

export function dnsRoutes(router: Router): void {
  router
    .add('GET', '/dns/query', {
      async handle(r) {
        const name = (r.url.searchParams.get('name') ?? '').trim();
        const type = r.url.searchParams.get('type') || 'A';
        if (TYPES[type] === undefined) throw new ApiError(400, 'invalid query type');
        if (type !== 'A' && type !== 'AAAA') throw new ApiError(400, `query type ${type} is not supported in clash-ts (A and AAAA are)`);
        if (name === '') throw new ApiError(400, 'name is required');
        const fqdn = name.endsWith('.') ? name : `${name}.`;
        let answers: readonly string[];
        try {
          answers = (await r.api.control.dnsQuery(name.replace(/\.$/, ''), type)).answers;
        } catch (err) {
          throw new ApiError(500, errorMessage(err));
        }
        const body: Record<string, unknown> = {
          Status: 0,
          Question: [{ Name: fqdn, Qtype: TYPES[type], Qclass: 1 }],
          TC: false,
          RD: true,
          RA: true,
          AD: false,
          CD: false,
        };
        if (answers.length > 0) body.Answer = answers.map((data) => ({ name: fqdn, type: TYPES[type], TTL: 0, data }));
        sendJson(r.res, 200, body);
      },
    })
    // no fake-ip pool exists yet: nothing to flush
    .add('POST', '/cache/fakeip/flush', { handle: (r) => noContent(r.res) })
    .add('POST', '/cache/dns/flush', {
      async handle(r) {
        await r.api.control.flushDnsCache();
        noContent(r.res);
      },
    });
}
