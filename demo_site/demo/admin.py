from django.contrib import admin

from demo_site.demo.models import Comment, Project, Task, Team

admin.site.register(Team)
admin.site.register(Project)
admin.site.register(Task)
admin.site.register(Comment)
