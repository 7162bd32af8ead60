"""Conference Ideas: readers send ideas for a conference's organisers, publicly or privately."""

from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, database, CSRF, rate limits, login, pages, errors, commands."""
    from feedback import (
        api,
        auth,
        cli,
        config,
        db,
        errors,
        manage,
        owner,
        owner_digests,
        public,
        ratelimit,
        security,
    )

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    config.load(app, test_config)
    config.check_production(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    csrf.init_app(app)
    ratelimit.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(owner.bp)
    app.register_blueprint(owner_digests.bp)
    # The submission form checks its own CSRF token so that a failure keeps the reader's text.
    csrf.exempt(public.submit)
    errors.init_app(app)
    cli.init_app(app)
    return app
