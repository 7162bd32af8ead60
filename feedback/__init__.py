"""Conference Ideas: readers send ideas for a conference's organisers, publicly or privately."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, database, request security, rate limits, login, pages, errors,
    commands."""
    from feedback import (
        api,
        auth,
        author_pages,
        cli,
        config,
        db,
        errors,
        owner_pages,
        page_cache,
        public,
        query_args,
        ratelimit,
        request_security,
    )
    from feedback.digest import pages as digest_pages
    from feedback.themes import pages as theme_pages

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    config.load(app, test_config)
    config.check_production(app)
    config.check_settings(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    page_cache.init_app(app)
    ratelimit.init_app(app)
    request_security.init_app(app)
    query_args.init_app(app)
    auth.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(author_pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(owner_pages.bp)
    app.register_blueprint(digest_pages.bp)
    app.register_blueprint(theme_pages.bp)
    errors.init_app(app)
    cli.init_app(app)
    return app
