from gaitkiosk.cli import main

raise SystemExit(main())
