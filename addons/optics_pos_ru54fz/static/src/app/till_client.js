/**
 * HTTP client of the till fiscal proxy (till HTTP API: /hw_proxy/ru54fz/*).
 *
 * Every call carries the pairing token and a hard timeout (AbortController), so a
 * dead till never freezes the cash desk: the caller gets a TillError it can show.
 */

export class TillError extends Error {
    /**
     * @param {String} code  stable error code (device codes from ru54fz/errors.py, or
     *                       "unreachable" / "timeout" / "http_<status>" for transport failures)
     * @param {String} message English text from the till, for logs and as a fallback
     * @param {Object} extra  {status, retryable, details}
     */
    constructor(code, message, {status = 0, retryable = false, details = {}} = {}) {
        super(message || code);
        this.name = "TillError";
        this.code = code;
        this.status = status;
        this.retryable = retryable;
        this.details = details;
    }

    /** True when the till did not answer at all: the KKT state is unknown. */
    get isTransport() {
        return this.status === 0;
    }
}

/** Default per-route timeouts (ms); printing a long receipt or a Z report is slow. */
export const TILL_TIMEOUTS = {
    status: 4000,
    receipt: 60000,
    correction: 60000,
    cash_in: 30000,
    cash_out: 30000,
    x_report: 60000,
    open_shift: 60000,
    close_shift: 90000,
    cancel_open: 30000,
    counters: 10000,
    journal: 10000,
    push: 30000,
};

/** "?k=v&..." of the query's set values, or "" when none is. */
function queryString(query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) {
        if (v !== undefined && v !== null && v !== "") {
            params.set(k, v);
        }
    }
    const qs = params.toString();
    return qs ? `?${qs}` : "";
}

/** The JSON body of a reply, null when it has none. */
async function jsonOf(response) {
    try {
        return await response.json();
    } catch {
        return null;
    }
}

/** The TillError of a reply that is not 2xx: the till's own error block when it sent one. */
function replyError(response, data, route) {
    const {code, message, retryable, ...details} = data?.error || {};
    return new TillError(
        code || `http_${response.status}`,
        message || `The till answered ${response.status} to ${route}`,
        {
            status: response.status,
            retryable: Boolean(retryable) || response.status === 503,
            details,
        }
    );
}

export class TillClient {
    /**
     * @param {String} baseUrl e.g. "http://127.0.0.1:8069" (pos.config.ru54fz_proxy_url)
     * @param {String} token pairing token (X-Till-Token)
     * @param {Object} [options] {tillCode, fetch}: the till code picks the till when one
     *        proxy serves several (X-Till-Code); fetch can be injected
     */
    constructor(baseUrl, token, options = {}) {
        this.baseUrl = (baseUrl || "").replace(/\/+$/, "");
        this.token = token || "";
        this.tillCode = options.tillCode || "";
        this._fetch = options.fetch || ((...args) => window.fetch(...args));
    }

    get configured() {
        return Boolean(this.baseUrl && this.token);
    }

    url(route) {
        return `${this.baseUrl}/hw_proxy/ru54fz/${route}`;
    }

    async request(method, route, body = undefined, {timeout, query, grant} = {}) {
        if (!this.configured) {
            throw new TillError(
                "not_configured",
                "The till proxy URL or pairing token is not set"
            );
        }
        const ms = timeout || TILL_TIMEOUTS[route] || 15000;
        const url = this.url(route) + queryString(query);
        const response = await this._send(url, this._init(method, body, grant), {
            route,
            ms,
        });
        const data = await jsonOf(response);
        if (!response.ok) {
            throw replyError(response, data, route);
        }
        if (data === null) {
            throw new TillError(
                "bad_reply",
                `The till answered ${route} with no JSON`,
                {
                    status: response.status,
                }
            );
        }
        return data;
    }

    /** The fetch options of a request: the till's headers and the JSON body if any. */
    _init(method, body, grant) {
        const init = {
            method,
            headers: {"X-Till-Token": this.token},
            cache: "no-store",
        };
        if (this.tillCode) {
            init.headers["X-Till-Code"] = this.tillCode;
        }
        if (grant) {
            // A store manager's grant from central for a manager-only action (ru54fz/grants.py)
            init.headers["X-Till-Grant"] = grant;
        }
        if (body !== undefined) {
            init.headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
        }
        return init;
    }

    /** Fetch with a hard timeout of `ms`; a till that does not answer is a TillError. */
    async _send(url, init, {route, ms}) {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), ms);
        try {
            return await this._fetch(url, {...init, signal: controller.signal});
        } catch {
            if (controller.signal.aborted) {
                throw new TillError(
                    "timeout",
                    `The till did not answer ${route} within ${ms} ms`,
                    {retryable: true}
                );
            }
            throw new TillError(
                "unreachable",
                `The till proxy at ${this.baseUrl} is unreachable`,
                {retryable: true}
            );
        } finally {
            clearTimeout(timer);
        }
    }

    status(options = {}) {
        return this.request("GET", "status", undefined, options);
    }
    receipt(payload) {
        return this.request("POST", "receipt", payload);
    }
    cashIn(uuid, amountKop, cashier) {
        return this.request("POST", "cash_in", {uuid, amount: amountKop, cashier});
    }
    cashOut(uuid, amountKop, cashier, grant = "") {
        return this.request(
            "POST",
            "cash_out",
            {uuid, amount: amountKop, cashier},
            {grant}
        );
    }
    xReport(uuid, cashier) {
        return this.request("POST", "x_report", {uuid, cashier});
    }
    openShift(uuid, cashier, cashierInn = "") {
        return this.request("POST", "open_shift", {
            uuid,
            cashier,
            cashier_inn: cashierInn,
        });
    }
    closeShift(uuid, cashier, cashierInn = "", grant = "") {
        return this.request(
            "POST",
            "close_shift",
            {uuid, cashier, cashier_inn: cashierInn},
            {grant}
        );
    }
    cancelOpen() {
        return this.request("POST", "cancel_open", {});
    }
    counters() {
        return this.request("GET", "counters");
    }
    push() {
        return this.request("POST", "push", {});
    }
}
